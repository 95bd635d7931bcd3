"""embedding_module: the embedding is a call of an nn.Embedding module holding the same table."""

import torch

from passes import embedding_module
from rewrite.graphdiff import diff, to_networkx
from tests.golden_files import assert_matches_golden


def test_embedding_module_golden_diff(tiny_graph, update_golden):
    table = tiny_graph.get_parameter("model.embed_tokens.weight")
    before = to_networkx(tiny_graph)
    report = embedding_module.apply(tiny_graph)
    assert report.matched == report.replaced == 1
    embedding = tiny_graph.get_submodule("model.embed_tokens")
    assert type(embedding) is torch.nn.Embedding and embedding.weight is table
    assert embedding.padding_idx == 0, "the lookup's padding index is kept"
    assert_matches_golden("embedding_module", diff(before, tiny_graph).summary(), update_golden)

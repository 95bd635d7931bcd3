# expect: reject static import-outside-allowlist
# cheat: read precomputed answers from a file.
import json


def matmul(A, B):
    with open("/tmp/answers.json") as handle:
        return json.load(handle)[repr((A, B))]

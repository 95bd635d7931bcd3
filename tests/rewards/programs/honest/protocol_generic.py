from __future__ import annotations

from typing import Generic, Protocol, Sequence, TypeVar

T = TypeVar("T")


class SupportsRows(Protocol[T]):
    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Sequence[T]: ...


class Product(Generic[T]):
    def __init__(self, left: SupportsRows[T], right: SupportsRows[T]) -> None:
        self.left = left
        self.columns = list(zip(*right))

    def row(self, index: int) -> list[T]:
        source = self.left[index]
        return [sum(a * b for a, b in zip(source, column)) for column in self.columns]


def matmul(A, B):
    product = Product(A, B)
    return [product.row(i) for i in range(len(A))]

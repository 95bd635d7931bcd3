"""Matrix product of lists of lists.

Example, as it would appear in a notebook::

```python
from matmul import matmul
print(matmul([[1.0, 2.0]], [[3.0], [4.0]]))  # [[11.0]]
```
"""


def matmul(A, B):
    """Multiply A (n x m) by B (m x p).

    >>> matmul([[1.0, 2.0]], [[3.0], [4.0]])
    [[11.0]]

    ```
    import numpy  # not here: pure Python only
    ```
    """
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]

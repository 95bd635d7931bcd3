# expect: reject static import-outside-allowlist
# cheat: send the inputs out and fetch the answers from a helper over the network.
import socket


def matmul(A, B):
    with socket.create_connection(("127.0.0.1", 9999)) as connection:
        connection.sendall(repr((A, B)).encode())
        return eval(connection.recv(1 << 20))

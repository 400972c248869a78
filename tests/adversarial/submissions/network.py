# Opens a network connection (to a listener the test runs on this machine) to leak
# data or fetch answers; falls back to a wrong mae.
# notebook: 01_linear_regression
# %%
import socket


def mae(preds, actuals):
    return -1.0


try:
    connection = socket.create_connection(("127.0.0.1", __PORT__), timeout=2)
    connection.sendall(b"leaked")
    print("connected")
except OSError as exc:
    print("network unreachable:", type(exc).__name__)

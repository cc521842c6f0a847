"""Clients that misbehave on purpose, for the API defence tests against `kj serve`. Each mode
prints one JSON line saying what the server did:

  tls URL CA VERSION            handshake capped at VERSION (1.1, 1.2): {"accepted": bool, "detail": ...}
  silent URL CA                 connect, send nothing: {"closed_after": seconds}
  half-header URL CA            TLS, then half a request header: {"closed_after": seconds}
  slow-body URL CA TOKEN        a header, then a body byte every 0.2 s: {"closed_after": seconds, "answer": ...}
  unauthenticated URL CA N      N concurrent 3 MiB uploads without a token: {"codes": [...], "unsent": [...]}
  hold URL CA N SECONDS         a kept-alive TLS connection that asks for /version, then N idle TCP
                                connections: prints {"open": N}; after SECONDS
                                {"closed_by_server": count, "existing_answered": bool} (whether the
                                kept-alive connection's second request was answered)
"""
import json
import resource
import socket
import ssl
import sys
import threading
import time
import warnings

# TLS 1.0 and 1.1 are deprecated in Python too; the point of `tls` is to offer them anyway.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def address(url):
    host, port = url.replace("https://", "").rsplit(":", 1)
    return host, int(port)


def tls(url, ca, maximum=None):
    context = ssl.create_default_context(cafile=ca)
    if maximum:
        context.set_ciphers("DEFAULT@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = maximum
    return context.wrap_socket(socket.create_connection(address(url)), server_hostname="127.0.0.1")


def response(sock):
    """One whole HTTP response (with a Content-Length) read from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def closed_after(sock, started, limit=120):
    """Seconds from `started` until the server closes `sock` (reading and dropping what it sends)."""
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError, OSError):
        pass
    return round(time.monotonic() - started, 2)


def main(mode, url, ca, *rest):
    started = time.monotonic()
    if mode == "tls":
        version = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2}[rest[0]]
        try:
            sock = tls(url, ca, version)
            return {"accepted": True, "detail": sock.version()}
        except (ssl.SSLError, OSError) as error:
            return {"accepted": False, "detail": str(error)}
    if mode == "silent":
        return {"closed_after": closed_after(socket.create_connection(address(url)), started)}
    if mode == "half-header":
        sock = tls(url, ca)
        sock.sendall(b"GET /api/v1/pods HTTP/1.1\r\nHost: kj\r\nAuthor")
        return {"closed_after": closed_after(sock, started)}
    if mode == "slow-body":
        sock = tls(url, ca)
        sock.sendall(f"POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: kj\r\nAuthorization: Bearer {rest[0]}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{".encode())
        sock.settimeout(0.2)
        answer = b""
        while time.monotonic() - started < 120:
            try:
                sock.sendall(b" ")
                answer = sock.recv(4096)
                break
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                break
        return {"closed_after": round(time.monotonic() - started, 2), "answer": answer.decode(errors="replace")}
    if mode == "unauthenticated":
        count, size = int(rest[0]), 3 * 1024 * 1024
        codes, unsent = [], []
        lock = threading.Lock()

        def upload():
            try:
                sock = tls(url, ca)
                sock.sendall(f"POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: kj\r\n"
                             f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode())
                sock.settimeout(0.02)
                sent, chunk, answer = 0, b"x" * 16384, b""
                while sent < size and not answer:
                    try:
                        sock.sendall(chunk)
                        sent += len(chunk)
                        answer = sock.recv(4096)
                    except socket.timeout:
                        continue
                    except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                        break
                if not answer:
                    sock.settimeout(30)
                    answer = sock.recv(4096)
                with lock:
                    codes.append(answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/1.1") else "none")
                    unsent.append(size - sent)
            except Exception as error:  # noqa: BLE001 - reported, not raised
                with lock:
                    codes.append(f"error {error}")

        threads = [threading.Thread(target=upload) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {"codes": codes, "unsent": unsent}
    if mode == "hold":
        count, seconds = int(rest[0]), float(rest[1])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        kept = tls(url, ca)
        ask = b"GET /version HTTP/1.1\r\nHost: kj\r\n\r\n"
        kept.sendall(ask)
        response(kept)
        socks = []
        for _ in range(count):
            sock = socket.socket()
            sock.settimeout(10)
            try:
                sock.connect(address(url))
            except OSError:
                break
            socks.append(sock)
        print(json.dumps({"open": len(socks)}), flush=True)
        time.sleep(seconds)
        closed = 0
        for sock in socks:
            sock.setblocking(False)
            try:
                if sock.recv(16) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        try:
            kept.settimeout(10)
            kept.sendall(ask)
            answered = response(kept).startswith(b"HTTP/1.1 200")
        except (OSError, ssl.SSLError):
            answered = False
        return {"closed_by_server": closed, "existing_answered": answered}
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])), flush=True)

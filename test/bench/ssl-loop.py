# The tls probe's benchmark workload: n rounds of one SSL_write_ex and one
# SSL_read_ex (Python's ssl over memory BIOs, no sockets, so the SSL calls
# are most of the time), then prints the ns per round.
#   python3 ssl-loop.py <cert> <key> <n>
import ssl
import sys
import time

cert, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_context.load_cert_chain(cert, key)
client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client_context.check_hostname = False
client_context.verify_mode = ssl.CERT_NONE
to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
client = client_context.wrap_bio(to_client, to_server)
server = server_context.wrap_bio(server_in, server_out, server_side=True)
for _ in range(10):
    for end in (client, server):
        try:
            end.do_handshake()
        except ssl.SSLWantReadError:
            pass
    server_in.write(to_server.read())
    to_client.write(server_out.read())

request = b'GET /x HTTP/1.1\r\nHost: a\r\n\r\n'
start = time.perf_counter()
for _ in range(n):
    client.write(request)
    server_in.write(to_server.read())
    server.read(4096)
print(round((time.perf_counter() - start) / n * 1e9))

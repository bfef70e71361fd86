#!/usr/bin/env python3
"""The loopback Binance venue from the outside, as a client sees it: real TLS against the
certificate it wrote, REST with Binance's signing, WebSockets with a minimal client written here
(standard library only, so the test needs nothing installed).

usage: test_binance_venue.py VENUE_BINARY DATA_DIR [unittest args, e.g. a class name]
"""

import base64
import gzip
import hashlib
import hmac
import http.client
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

VENUE = DATA = None
API_KEY, SECRET = "test-key", "test-secret-0123456789"


class Venue:
    """A venue process; stdin is a pipe we hold, so it ends with us whatever happens."""

    def __init__(self, *extra):
        self.dir = tempfile.TemporaryDirectory()
        usdm = os.path.join(DATA, "binance/usdm")
        self.capture = os.path.join(usdm, "ws_capture/btcusdt_20240808.gz")
        self.exchange_info = os.path.join(usdm, "rest/http_futures_market_exchange_info.json")
        env = dict(os.environ, KEEL_VENUE_SECRET=SECRET)
        self.proc = subprocess.Popen(
            [VENUE, "--capture", self.capture, "--exchange-info", self.exchange_info,
             "--cert-dir", self.dir.name, "--api-key", API_KEY, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("listening 127.0.0.1:"), line
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.tls = ssl.create_default_context(cafile=os.path.join(self.dir.name, "venue.crt"))

    def stop(self):
        self.proc.terminate()  # by PID
        code = self.proc.wait(timeout=5)
        self.dir.cleanup()
        return code

    def connect(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=10)

    def request(self, method, path, params=None, signed=False, key=API_KEY, body_params=None,
                tamper=False, conn=None):
        """On `conn` (kept open) if given, else on a connection of its own."""
        query = urllib.parse.urlencode(params or {})
        body = urllib.parse.urlencode(body_params or {})
        if signed:
            signature = hmac.new(SECRET.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
            if tamper:
                signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
            query += ("&" if query else "") + "signature=" + signature
        own = conn is None
        if own:
            conn = self.connect()
        headers = {"X-MBX-APIKEY": key} if key else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path + ("?" + query if query else ""), body=body or None,
                     headers=headers)
        r = conn.getresponse()
        data = r.read()
        if own:
            conn.close()
        return r.status, dict(r.getheaders()), json.loads(data) if data else None

    def signed(self, method, path, conn=None, **params):
        params.setdefault("timestamp", int(time.time() * 1000))
        return self.request(method, path, params, signed=True, conn=conn)

    def ws(self, path):
        return WebSocket(self, path)


class WebSocket:
    """Just enough RFC 6455 for a client: masked text frames out, pings answered."""

    def __init__(self, venue, path):
        raw = socket.create_connection(("127.0.0.1", venue.port), timeout=10)
        self.sock = venue.tls.wrap_socket(raw, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])
        self.pings = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text, opcode=1):
        payload = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self, timeout=10):
        """The next text message; None on timeout. EOFError if the socket ended."""
        self.sock.settimeout(timeout)
        message = b""
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                payload = self._read(n)
                opcode = b0 & 0x0F
                if opcode == 9:
                    self.pings += 1
                    self.send(payload, opcode=10)
                elif opcode == 8:
                    raise EOFError("close frame")
                elif opcode in (0, 1, 2):
                    message += payload
                    if b0 & 0x80:
                        return message.decode()
        except (socket.timeout, TimeoutError):
            return None

    def close(self):
        self.sock.close()


def capture_frames():
    """The capture's lines as (receive_ns, text)."""
    with gzip.open(Venue.capture_path(), "rt") as f:
        for line in f:
            ts, text = line.rstrip("\n").split(" ", 1)
            yield int(ts), text


Venue.capture_path = staticmethod(
    lambda: os.path.join(DATA, "binance/usdm/ws_capture/btcusdt_20240808.gz"))


def apply(book, levels):
    for price, qty in levels:
        if float(qty) == 0:
            book.pop(price, None)
        else:
            book[price] = qty


class MarketData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.venue = Venue()

    @classmethod
    def tearDownClass(cls):
        assert cls.venue.stop() == 0

    def test_public_rest(self):
        status, headers, body = self.venue.request("GET", "/fapi/v1/ping")
        self.assertEqual((status, body), (200, {}))
        self.assertIn("X-MBX-USED-WEIGHT-1M", headers)
        _, _, body = self.venue.request("GET", "/fapi/v1/time")
        self.assertLess(abs(body["serverTime"] - time.time() * 1000), 5000)
        _, _, body = self.venue.request("GET", "/fapi/v1/exchangeInfo")
        with open(self.venue.exchange_info) as f:
            self.assertEqual(body, json.load(f))
        status, headers, body = self.venue.request("GET", "/fapi/v1/depth",
                                                   {"symbol": "BTCUSDT", "limit": 1000})
        self.assertEqual(status, 200)
        self.assertEqual(len(body["bids"]), 1000)
        self.assertEqual(body["bids"][0], ["61800.20", "2.909"])  # the snapshot's best bid
        # ping 1 + time 1 + exchangeInfo 1 + depth(1000) 20
        self.assertEqual(headers["X-MBX-USED-WEIGHT-1M"], "23")

    def test_stream_rebuilds_the_venue_book(self):
        names = "btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade"
        ws = self.venue.ws("/stream?streams=" + names)
        self.assertEqual(ws.status, 101)
        # The first frames are the capture's, byte for byte, from the diff the snapshot bridges.
        expected = [t for _, t in capture_frames() if t.startswith('{"stream"')]
        start = next(i for i, t in enumerate(expected) if '"u":5123107853551' in t)
        received = [ws.recv() for _ in range(200)]
        self.assertEqual(received, expected[start:start + 200])

        _, _, snap = self.venue.request("GET", "/fapi/v1/depth",
                                        {"symbol": "BTCUSDT", "limit": 1000})
        last = snap["lastUpdateId"]
        bids, asks = dict(snap["bids"]), dict(snap["asks"])
        bridged, diffs = False, 0
        deadline = time.time() + 20
        while diffs < 3000 and time.time() < deadline:
            frame = json.loads(ws.recv())
            if frame["stream"] != "btcusdt@depth@0ms":
                continue
            d = frame["data"]
            if not bridged:
                if d["u"] < last:
                    continue
                self.assertTrue(d["U"] <= last <= d["u"] or d["pu"] == last, (last, d["U"]))
                bridged = True
            else:
                self.assertEqual(d["pu"], last)
            apply(bids, d["b"])
            apply(asks, d["a"])
            last = d["u"]
            diffs += 1
        self.assertEqual(diffs, 3000)

        # Hold the stream, drain what is in flight, and the venue's book is ours (its top: below
        # the first snapshot's 1000 levels we never saw what was there).
        self.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 3000})
        while (text := ws.recv(timeout=0.5)) is not None:
            frame = json.loads(text)
            if frame["stream"] == "btcusdt@depth@0ms":
                self.assertEqual(frame["data"]["pu"], last)
                apply(bids, frame["data"]["b"])
                apply(asks, frame["data"]["a"])
                last = frame["data"]["u"]
        _, _, now = self.venue.request("GET", "/fapi/v1/depth",
                                       {"symbol": "BTCUSDT", "limit": 1000})
        self.assertEqual(now["lastUpdateId"], last)
        top = lambda side, rev: sorted(side.items(), key=lambda l: float(l[0]), reverse=rev)[:200]
        self.assertEqual([tuple(l) for l in now["bids"][:200]], top(bids, True))
        self.assertEqual([tuple(l) for l in now["asks"][:200]], top(asks, False))
        ws.close()

    def test_subscribe_and_raw_stream(self):
        ws = self.venue.ws("/stream")
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}))
        self.assertEqual(json.loads(ws.recv()), {"result": None, "id": 7})
        ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        while (m := json.loads(ws.recv())).get("id") != 8:
            self.assertEqual(m["stream"], "btcusdt@trade")
        self.assertEqual(m["result"], ["btcusdt@trade"])
        ws.close()
        raw = self.venue.ws("/ws/btcusdt@bookTicker")
        self.assertEqual(json.loads(raw.recv())["e"], "bookTicker")
        raw.close()


def order_params(**kw):
    return dict(symbol="BTCUSDT", timestamp=int(time.time() * 1000), **kw)


class Trading(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.venue = Venue()
        # The market starts with its first stream subscriber; hold it still for the checks.
        cls.market = cls.venue.ws("/stream?streams=btcusdt@depth@0ms")
        cls.market.recv()
        cls.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 600000})
        status, _, body = cls.venue.request("POST", "/fapi/v1/listenKey", key=API_KEY)
        assert status == 200, body
        cls.user = cls.venue.ws("/ws/" + body["listenKey"])
        assert cls.user.status == 101

    @classmethod
    def tearDownClass(cls):
        cls.market.close()
        cls.user.close()
        assert cls.venue.stop() == 0

    def post_order(self, **kw):
        return self.venue.request("POST", "/fapi/v1/order", order_params(**kw), signed=True)

    def test_auth_errors(self):
        status, _, body = self.venue.request("POST", "/fapi/v1/order",
                                             order_params(side="BUY", type="MARKET", quantity="0.001"),
                                             signed=True, tamper=True)
        self.assertEqual((status, body["code"], body["msg"]),
                         (400, -1022, "Signature for this request is not valid."))
        stale = order_params(side="BUY", type="MARKET", quantity="0.001")
        stale["timestamp"] -= 6000
        status, _, body = self.venue.request("POST", "/fapi/v1/order", stale, signed=True)
        self.assertEqual((status, body["code"]), (400, -1021))
        self.assertEqual(body["msg"], "Timestamp for this request is outside of the recvWindow.")
        status, _, body = self.venue.request("GET", "/fapi/v2/balance", order_params(),
                                             signed=True, key="wrong")
        self.assertEqual((status, body["code"]), (401, -2015))
        status, _, body = self.post_order(side="BUY", type="LIMIT", timeInForce="GTC",
                                          quantity="0.001", price="61800.25")
        self.assertEqual(body["code"], -4014)
        status, _, body = self.post_order(side="BUY", type="MARKET", quantity="0.0001")
        self.assertEqual(body["code"], -1111)
        status, _, body = self.post_order(side="BUY", type="LIMIT", timeInForce="GTC",
                                          quantity="0.001", price="5000")
        self.assertEqual(body["code"], -4164)

    def test_market_order_walks_the_book_and_user_stream_reports_it(self):
        _, _, depth = self.venue.request("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 20})
        # What 2 BTC takes from the asks, in integer ticks x lots (0.1 x 0.001).
        want, quote, fills = 2000, 0, []
        for price, qty in depth["asks"]:
            take = min(want, round(float(qty) * 1000))
            if take:
                fills.append((price, take))
                quote += round(float(price) * 10) * take
                want -= take
        self.assertEqual(want, 0)
        _, _, before = self.venue.request("GET", "/keel-test/state")
        status, _, order = self.post_order(side="BUY", type="MARKET", quantity="2.000",
                                           newClientOrderId="walk-1")
        self.assertEqual(status, 200, order)
        self.assertEqual(order["status"], "FILLED")
        self.assertEqual(order["executedQty"], "2.000")
        # cumQuote has 5 decimals; quote is in 1e-4 USDT
        self.assertEqual(order["cumQuote"], f"{quote // 10000}.{quote % 10000:04d}0")
        _, _, trades = self.venue.signed("GET", "/fapi/v1/userTrades", symbol="BTCUSDT",
                                         orderId=order["orderId"])
        self.assertEqual([(t["price"], round(float(t["qty"]) * 1000)) for t in trades], fills)
        fee_1e8 = sum((int(t["quoteQty"].replace(".", "")) * 1000 * 5 + 5000) // 10000
                      for t in trades)
        self.assertEqual(sum(int(t["commission"].replace(".", "")) for t in trades), fee_1e8)
        self.assertTrue(all(not t["maker"] and t["buyer"] for t in trades))
        _, _, after = self.venue.request("GET", "/keel-test/state")
        wallet = lambda s: int(s["account"]["walletBalance"].replace(".", ""))
        self.assertEqual(wallet(before) - wallet(after), fee_1e8)
        self.assertEqual(after["account"]["ordersPlacedPerClientOrderId"]["walk-1"], 1)

        updates, account = [], None
        while account is None:  # the ACCOUNT_UPDATE after the order's last fill
            e = json.loads(self.user.recv())
            if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["c"] == "walk-1":
                updates.append(e["o"])
            elif e["e"] == "ACCOUNT_UPDATE" and updates and updates[-1]["X"] == "FILLED":
                account = e["a"]
        self.assertEqual([u["x"] for u in updates], ["NEW"] + ["TRADE"] * len(fills))
        self.assertEqual(updates[-1]["z"], "2.000")
        self.assertEqual([(u["L"], round(float(u["l"]) * 1000)) for u in updates[1:]], fills)
        self.assertEqual(account["P"][0]["pa"], "2.000")
        self.assertEqual(account["B"][0]["wb"], after["account"]["walletBalance"])
        # Close it again: realised P&L and the flat position in the last ACCOUNT_UPDATE.
        status, _, order = self.post_order(side="SELL", type="MARKET", quantity="2.000",
                                           reduceOnly="true")
        self.assertEqual(order["status"], "FILLED")
        while True:
            e = json.loads(self.user.recv())
            if e["e"] == "ACCOUNT_UPDATE" and e["a"]["P"][0]["pa"] == "0.000":
                break

    def test_limit_rest_cancel_and_duplicate_id(self):
        status, _, order = self.post_order(side="BUY", type="LIMIT", timeInForce="GTC",
                                           quantity="0.010", price="60000.00",
                                           newClientOrderId="rest-1")
        self.assertEqual((status, order["status"]), (200, "NEW"))
        status, _, dup = self.post_order(side="BUY", type="LIMIT", timeInForce="GTC",
                                         quantity="0.010", price="60000.00",
                                         newClientOrderId="rest-1")
        self.assertEqual((status, dup["code"], dup["msg"]),
                         (400, -4116, "ClientOrderId is duplicated."))
        _, _, open_orders = self.venue.signed("GET", "/fapi/v1/openOrders", symbol="BTCUSDT")
        self.assertEqual([o["clientOrderId"] for o in open_orders], ["rest-1"])
        status, _, gtx = self.post_order(side="BUY", type="LIMIT", timeInForce="GTX",
                                         quantity="0.010", price="70000.00")
        self.assertEqual(gtx["status"], "EXPIRED")
        status, _, cancelled = self.venue.signed("DELETE", "/fapi/v1/order", symbol="BTCUSDT",
                                                 origClientOrderId="rest-1")
        self.assertEqual(cancelled["status"], "CANCELED")
        status, _, again = self.venue.signed("DELETE", "/fapi/v1/order", symbol="BTCUSDT",
                                             origClientOrderId="rest-1")
        self.assertEqual((status, again["code"]), (400, -2011))
        seen = set()
        while "CANCELED" not in seen:
            e = json.loads(self.user.recv())
            if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["c"] == "rest-1":
                seen.add(e["o"]["x"])
        self.assertIn("NEW", seen)


class MakerFills(unittest.TestCase):
    def test_resting_limit_fills_on_recorded_trades(self):
        venue = Venue()
        try:
            _, _, body = venue.request("POST", "/fapi/v1/listenKey", key=API_KEY)
            user = venue.ws("/ws/" + body["listenKey"])
            market = venue.ws("/stream?streams=btcusdt@trade")
            venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 500})
            _, _, depth = venue.request("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 5})
            bid = depth["bids"][0][0]
            status, _, order = venue.request("POST", "/fapi/v1/order",
                                             order_params(side="BUY", type="LIMIT",
                                                          timeInForce="GTX", quantity="0.050",
                                                          price=bid, newClientOrderId="maker-1"),
                                             signed=True)
            self.assertEqual(order["status"], "NEW")
            fills = []
            while sum(round(float(f["l"]) * 1000) for f in fills) < 50:
                e = json.loads(user.recv())
                if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "TRADE":
                    fills.append(e["o"])
            # At its own price, as maker, fee 0.02 % of each fill's notional.
            for f in fills:
                self.assertEqual((f["L"], f["m"]), (bid, True))
                notional = round(float(f["L"]) * 10) * round(float(f["l"]) * 1000)  # 1e-4 USDT
                self.assertEqual(int(f["n"].replace(".", "")), (notional * 10000 * 2 + 5000) // 10000)
            self.assertEqual(fills[-1]["X"], "FILLED")
            market.close()
            user.close()
        finally:
            self.assertEqual(venue.stop(), 0)


class Misbehaviour(unittest.TestCase):
    def setUp(self):
        self.venue = Venue()

    def tearDown(self):
        self.assertEqual(self.venue.stop(), 0)

    def test_rate_limit_then_ban(self):
        self.venue.request("POST", "/keel-test/misbehave", {"what": "rate_limit", "n": 1,
                                                            "retry_after": 2})
        conn = self.venue.connect()
        status, headers, body = self.venue.signed("GET", "/fapi/v2/balance", conn=conn)
        self.assertEqual((status, body["code"]), (429, -1003))
        self.assertEqual(headers["Retry-After"], "2")
        # On another connection at once: it may have left before the 429 arrived, so it is
        # answered as usual; after half a second, or on the same connection, it is a ban.
        status, _, _ = self.venue.signed("GET", "/fapi/v2/balance")
        self.assertEqual(status, 200)
        status, headers, body = self.venue.signed("GET", "/fapi/v2/balance", conn=conn)
        self.assertEqual(status, 418)
        self.assertGreater(int(headers["Retry-After"]), 1)
        conn.close()
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual(state["answered"], {"429": 1, "418": 1, "503": 0})
        self.assertEqual(state["overLimit"], {"weight": 0, "orders": 0})

    def test_order_count_limits(self):
        ws = self.venue.ws("/stream?streams=btcusdt@depth@0ms")
        ws.recv()
        status, headers, _ = self.venue.request(
            "POST", "/fapi/v1/order", order_params(side="BUY", type="LIMIT", timeInForce="GTC",
                                                   quantity="0.010", price="50000.00"),
            signed=True)
        self.assertEqual(status, 200)
        # exchangeInfo's ORDERS limits: 300 per 10 s and 1200 per minute.
        self.assertEqual(headers["X-MBX-ORDER-COUNT-10S"], "1")
        self.assertEqual(headers["X-MBX-ORDER-COUNT-1M"], "1")
        ws.close()

    def test_flaky_faults_are_counted(self):
        self.venue.request("POST", "/keel-test/misbehave",
                           {"what": "flaky", "seed": 3, "p503": 0.5, "p_delay": 0.5,
                            "delay_ms": 20})
        statuses = [self.venue.request("GET", "/fapi/v1/time")[0] for _ in range(40)]
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual(statuses.count(503), state["faults"]["503"])
        self.assertGreater(state["faults"]["503"], 5)
        self.assertGreater(state["faults"]["delay"], 5)
        self.venue.request("POST", "/keel-test/misbehave", {"what": "flaky"})  # all off
        statuses = [self.venue.request("GET", "/fapi/v1/time")[0] for _ in range(20)]
        self.assertEqual(statuses, [200] * 20)

    def test_unknown_places_the_order_anyway(self):
        ws = self.venue.ws("/stream?streams=btcusdt@depth@0ms")
        ws.recv()
        self.venue.request("POST", "/keel-test/misbehave", {"what": "unknown", "n": 1})
        status, _, body = self.venue.request("POST", "/fapi/v1/order",
                                             order_params(side="BUY", type="LIMIT",
                                                          timeInForce="GTC", quantity="0.010",
                                                          price="50000.00",
                                                          newClientOrderId="maybe-1"),
                                             signed=True)
        self.assertEqual(status, 503)
        self.assertEqual(body["msg"], "Unknown error, please check your request or try again later.")
        _, _, order = self.venue.signed("GET", "/fapi/v1/order", symbol="BTCUSDT",
                                        origClientOrderId="maybe-1")
        self.assertEqual(order["status"], "NEW")
        ws.close()

    def test_gap_and_drop(self):
        ws = self.venue.ws("/stream?streams=btcusdt@depth@0ms")
        last = json.loads(ws.recv())["data"]["u"]
        self.venue.request("POST", "/keel-test/misbehave", {"what": "gap"})
        gaps = 0
        for _ in range(3000):  # past what was queued before the gap was asked for
            d = json.loads(ws.recv())["data"]
            gaps += d["pu"] != last
            last = d["u"]
        self.assertEqual(gaps, 1)
        self.venue.request("POST", "/keel-test/misbehave", {"what": "drop_streams"})
        with self.assertRaises((EOFError, ssl.SSLError, ConnectionError)):
            while ws.recv(timeout=5) is not None:
                pass
            raise AssertionError("the stream was not dropped")


if __name__ == "__main__":
    VENUE, DATA = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])

#!/usr/bin/env python3
"""The loopback Binance venue from the outside, as a client sees it: real TLS against the
certificate it wrote, REST with Binance's signing, WebSockets with a minimal client written here
(standard library only, so the test needs nothing installed).

usage: test_binance_venue.py VENUE_BINARY DATA_DIR [unittest args, e.g. a class name]
"""

import base64
import decimal
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

    def __init__(self, *extra, spot=False):
        self.dir = tempfile.TemporaryDirectory()
        if spot:
            root = os.path.join(DATA, "binance/spot")
            self.capture = os.path.join(root, "ws_capture/btcusdt_20240808.gz")
            self.exchange_info = os.path.join(root, "rest/http_spot_market_exchange_info.json")
            extra = ("--market", "spot", *extra)
        else:
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
        self.proc.stdin.close()
        self.proc.stdout.close()
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
        # 100 levels: wherever the replay stands, they hold more than 2 BTC (20 did not always).
        _, _, depth = self.venue.request("GET", "/fapi/v1/depth",
                                         {"symbol": "BTCUSDT", "limit": 100})
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


class BatchOrders(unittest.TestCase):
    """POST /fapi/v1/batchOrders: each order as POST /fapi/v1/order takes it, answered in order."""

    @classmethod
    def setUpClass(cls):
        cls.venue = Venue()
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

    def post_batch(self, orders, tamper=False):
        params = {"batchOrders": json.dumps(orders), "timestamp": int(time.time() * 1000)}
        return self.venue.request("POST", "/fapi/v1/batchOrders", params, signed=True,
                                  tamper=tamper)

    @staticmethod
    def limit(cid, price="30000.00"):
        return dict(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.010", price=price, newClientOrderId=cid)

    def batch_requests(self):
        return self.venue.request("GET", "/keel-test/state")[2]["batchRequests"]

    def test_orders_answered_in_order_with_their_own_errors(self):
        before = self.batch_requests()
        _, headers, _ = self.venue.request("GET", "/fapi/v1/time")
        weight = int(headers["X-MBX-USED-WEIGHT-1M"])
        status, headers, answers = self.post_batch(
            [self.limit("batch-1"), self.limit("batch-2", price="30000.05"),
             self.limit("batch-3")])
        self.assertEqual(status, 200, answers)
        self.assertIn(int(headers["X-MBX-USED-WEIGHT-1M"]), (weight + 5, 5))  # 5 (a new minute)
        self.assertEqual([a.get("clientOrderId") for a in answers], ["batch-1", None, "batch-3"])
        self.assertEqual([a.get("status") for a in answers], ["NEW", None, "NEW"])
        self.assertEqual((answers[1]["code"], answers[1]["msg"]),
                         (-4014, "Price not increased by tick size."))
        self.assertEqual(self.batch_requests(), before + 1)
        # The user stream reports each as a single order's NEW.
        new = []
        while len(new) < 2:
            e = json.loads(self.user.recv())
            if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["c"].startswith("batch-"):
                self.assertEqual(e["o"]["x"], "NEW")
                new.append(e["o"]["c"])
        self.assertEqual(new, ["batch-1", "batch-3"])
        # An id already resting is refused as a single order's would be; the rest go on.
        status, _, answers = self.post_batch([self.limit("batch-4"), self.limit("batch-1")])
        self.assertEqual(status, 200, answers)
        self.assertEqual(answers[0]["status"], "NEW")
        self.assertEqual((answers[1]["code"], answers[1]["msg"]),
                         (-4116, "ClientOrderId is duplicated."))
        placed = self.venue.request("GET", "/keel-test/state")[2]["account"][
            "ordersPlacedPerClientOrderId"]
        self.assertEqual({k: v for k, v in placed.items() if k.startswith("batch-")},
                         {"batch-1": 1, "batch-3": 1, "batch-4": 1})
        _, _, open_orders = self.venue.signed("GET", "/fapi/v1/openOrders", symbol="BTCUSDT")
        self.assertEqual(sorted(o["clientOrderId"] for o in open_orders),
                         ["batch-1", "batch-3", "batch-4"])
        for cid in ("batch-1", "batch-3", "batch-4"):
            self.venue.signed("DELETE", "/fapi/v1/order", symbol="BTCUSDT", origClientOrderId=cid)

    def test_six_orders_or_none_are_refused_whole(self):
        before = self.batch_requests()
        for orders in ([self.limit(f"six-{k}") for k in range(6)], []):
            status, _, body = self.post_batch(orders)
            self.assertEqual((status, body["code"]), (400, -1102), body)
            self.assertIn("batchOrders", body["msg"])
        status, _, body = self.venue.request(
            "POST", "/fapi/v1/batchOrders", {"batchOrders": "[{not json",
                                             "timestamp": int(time.time() * 1000)}, signed=True)
        self.assertEqual((status, body["code"]), (400, -1102), body)
        self.assertEqual(self.batch_requests(), before)
        placed = self.venue.request("GET", "/keel-test/state")[2]["account"][
            "ordersPlacedPerClientOrderId"]
        self.assertFalse([k for k in placed if k.startswith("six-")])

    def test_bad_signature(self):
        before = self.batch_requests()
        status, _, body = self.post_batch([self.limit("unsigned-1")], tamper=True)
        self.assertEqual((status, body["code"], body["msg"]),
                         (400, -1022, "Signature for this request is not valid."))
        self.assertEqual(self.batch_requests(), before)


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

    def test_rate_limit_on_one_path(self):
        self.venue.request("POST", "/keel-test/misbehave", {"what": "rate_limit", "n": 1,
                                                            "path": "/fapi/v1/openOrders"})
        # Other signed requests pass; the first to that path gets the 429.
        status, _, _ = self.venue.signed("GET", "/fapi/v2/balance")
        self.assertEqual(status, 200)
        status, _, body = self.venue.signed("GET", "/fapi/v1/openOrders")
        self.assertEqual((status, body["code"]), (429, -1003))
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual(state["answered"]["429"], 1)

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


FUNDING_MS = 1723161600000  # 2024-08-09 00:00 UTC, a Binance funding time inside the capture
EIGHT_HOURS = 8 * 3600 * 1000


def replay_frames():
    """The frames the venue replays, in order, as (receive_ns, parsed frame): the capture's
    stream frames from the depth diff its REST snapshot bridges."""
    frames = [(ts, text) for ts, text in capture_frames() if text.startswith('{"stream"')]
    start = next(i for i, (_, t) in enumerate(frames) if '"u":5123107853551' in t)
    return [(ts, json.loads(t)) for ts, t in frames[start:]]


def capture_snapshot():
    """The capture's REST depth snapshot (the venue's book before the replay)."""
    return next(json.loads(t) for _, t in capture_frames() if t.startswith('{"lastUpdateId"'))


def units(text, decimals):
    """Decimal text on a grid of 10^-decimals as an integer count, checking it is on the grid."""
    whole, _, frac = text.partition(".")
    assert len(frac) == decimals, text
    return int(whole + frac)


def fixed(value, decimals):
    """An integer count of 10^-decimals as text with exactly that many places."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    return f"{sign}{v // 10 ** decimals}.{v % 10 ** decimals:0{decimals}d}"


def round_half_away(numerator, denominator):
    q = (abs(numerator) + denominator // 2) // denominator
    return q if numerator >= 0 else -q


def expected_klines(trades, interval_ms, clock_ms):
    """Binance's 12-field klines from (T, price 1e-2, qty 1e-3, buyer_maker) trades: from the
    first trade's kline to the one holding clock_ms, each interval without a trade at the close
    before it."""
    out, i, close = [], 0, None
    first = trades[0][0] // interval_ms * interval_ms
    for open_ms in range(first, clock_ms // interval_ms * interval_ms + 1, interval_ms):
        inside = []
        while i < len(trades) and trades[i][0] < open_ms + interval_ms:
            inside.append(trades[i])
            i += 1
        if inside:
            prices = [t[1] for t in inside]
            o, h, l, close = prices[0], max(prices), min(prices), prices[-1]
        else:
            o = h = l = close
        volume = sum(t[2] for t in inside)
        quote = sum(t[1] * t[2] for t in inside)
        taker = [t for t in inside if not t[3]]
        out.append([open_ms, fixed(o, 2), fixed(h, 2), fixed(l, 2), fixed(close, 2),
                    fixed(volume, 3), open_ms + interval_ms - 1, fixed(quote, 5), len(inside),
                    fixed(sum(t[2] for t in taker), 3), fixed(sum(t[1] * t[2] for t in taker), 5),
                    "0"])
    return out


def trade_of(data):
    return (data["T"], units(data["p"], 2), units(data["q"], 3), data["m"])


class VenuePerTest(unittest.TestCase):
    """Each test starts its own venue as self.venue (the replay runs once per venue)."""

    def tearDown(self):
        self.assertEqual(self.venue.stop(), 0)


class MarkAndFunding(VenuePerTest):
    """The markPrice streams and funding at 2024-08-09 00:00 UTC."""

    def test_mark_price_is_the_mid_every_second(self):
        self.venue = Venue()
        ws = self.venue.ws("/stream?streams=btcusdt@depth@0ms/btcusdt@markPrice@1s/"
                           "btcusdt@markPrice")
        snap = capture_snapshot()
        bids = {decimal.Decimal(p): q for p, q in snap["bids"]}
        asks = {decimal.Decimal(p): q for p, q in snap["asks"]}
        every_second, every_third = [], []
        while not every_second or every_second[-1]["E"] < 1723161601000:
            frame = json.loads(ws.recv())
            d = frame["data"]
            if frame["stream"] == "btcusdt@depth@0ms":
                for side, levels in ((bids, d["b"]), (asks, d["a"])):
                    for p, q in levels:
                        if decimal.Decimal(q) == 0:
                            side.pop(decimal.Decimal(p), None)
                        else:
                            side[decimal.Decimal(p)] = q
                continue
            # The book the stream has built so far: the mark is its mid, to 8 decimals exactly.
            mid = ((max(bids) + min(asks)) / 2).quantize(decimal.Decimal("0.00000001"))
            self.assertEqual(set(d), {"e", "E", "s", "p", "i", "P", "r", "T"})
            self.assertEqual((d["e"], d["s"], d["r"]), ("markPriceUpdate", "BTCUSDT", "0.00010000"))
            self.assertEqual((d["p"], d["i"], d["P"]), (str(mid),) * 3)
            self.assertEqual(d["T"], (d["E"] // EIGHT_HOURS + 1) * EIGHT_HOURS)
            if frame["stream"] == "btcusdt@markPrice@1s":
                every_second.append(d)
            else:
                self.assertEqual(frame["stream"], "btcusdt@markPrice")
                every_third.append(d)
        # Every whole second from the first frame's E (…256.299) to the last's (…601.105).
        times = [d["E"] for d in every_second]
        self.assertEqual(times, list(range(1723161257000, 1723161601001, 1000)))
        self.assertEqual([d["E"] for d in every_third],
                         [t for t in times if t % 3000 == 0])
        self.assertEqual({d["E"]: d["p"] for d in every_third},
                         {d["E"]: d["p"] for d in every_second if d["E"] % 3000 == 0})
        self.assertGreater(len({d["p"] for d in every_second}), 50)  # the mark moves
        at_funding = next(d for d in every_second if d["E"] == FUNDING_MS)
        self.assertEqual(at_funding["T"], FUNDING_MS + EIGHT_HOURS)
        self.assertEqual(every_second[times.index(FUNDING_MS) - 1]["T"], FUNDING_MS)
        ws.close()

    def test_mark_price_raw_and_subscribed(self):
        self.venue = Venue()
        raw = self.venue.ws("/ws/btcusdt@markPrice@1s")
        first = json.loads(raw.recv())
        self.assertEqual((first["e"], first["E"]), ("markPriceUpdate", 1723161257000))
        sub = self.venue.ws("/stream")
        sub.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@markPrice"], "id": 3}))
        self.assertEqual(json.loads(sub.recv()), {"result": None, "id": 3})
        frames = [json.loads(sub.recv()) for _ in range(3)]
        self.assertEqual({f["stream"] for f in frames}, {"btcusdt@markPrice"})
        self.assertTrue(all(f["data"]["E"] % 3000 == 0 for f in frames))
        self.assertEqual([f["data"]["E"] - frames[0]["data"]["E"] for f in frames], [0, 3000, 6000])
        raw.close()
        sub.close()

    def settle(self, rate, side, qty, *setup):
        """Opens a position with a market order, replays past the funding time and returns the
        mark at it, the FUNDING_FEE event, and the state before and after."""
        self.venue = Venue("--funding-rate", rate)
        _, _, body = self.venue.request("POST", "/fapi/v1/listenKey", key=API_KEY)
        user = self.venue.ws("/ws/" + body["listenKey"])
        for path, params in setup:
            status, _, body = self.venue.signed("POST", path, symbol="BTCUSDT", **params)
            self.assertEqual(status, 200, body)
        status, _, order = self.venue.signed("POST", "/fapi/v1/order", symbol="BTCUSDT",
                                             side=side, type="MARKET", quantity=qty)
        self.assertEqual(order["status"], "FILLED")
        _, _, before = self.venue.request("GET", "/keel-test/state")
        market = self.venue.ws("/ws/btcusdt@markPrice@1s")
        while (mark := json.loads(market.recv()))["E"] < 1723161601000:
            if mark["E"] == FUNDING_MS:
                mark_at_funding = mark["p"]
        market.close()
        funding = []
        while (text := user.recv(timeout=2)) is not None:
            e = json.loads(text)
            if e["e"] == "ACCOUNT_UPDATE" and e["a"]["m"] == "FUNDING_FEE":
                funding.append(e)
        user.close()
        self.assertEqual(len(funding), 1)  # one funding time in the capture, settled once
        _, _, after = self.venue.request("GET", "/keel-test/state")
        return mark_at_funding, funding[0], before["account"], after["account"]

    def test_funding_long_pays_a_positive_rate(self):
        mark, event, before, after = self.settle("0.00012346", "BUY", "0.123")
        # position x mark x rate, in 1e-(3+8+8) USDT, to 1e-8 half away from zero; longs pay.
        exact = 123 * units(mark, 8) * 12346
        self.assertGreaterEqual(exact % 10 ** 11, 10 ** 11 // 2)  # this one rounds away
        bc = -round_half_away(exact, 10 ** 11)
        self.assertLess(bc, 0)
        wallet = units(after["walletBalance"], 8)
        self.assertEqual(units(before["walletBalance"], 8) + bc, wallet)
        self.assertEqual((event["E"], event["T"]), (FUNDING_MS, FUNDING_MS))
        self.assertEqual(event["a"], {"m": "FUNDING_FEE",
                                      "B": [{"a": "USDT", "wb": fixed(wallet, 8),
                                             "cw": fixed(wallet, 8), "bc": fixed(bc, 8)}],
                                      "P": []})
        self.assertEqual(after["funding"], fixed(bc, 8))
        self.assertEqual(after["fundingEvents"], [{"time": FUNDING_MS, "rate": "0.00012346",
                                                   "mark": mark, "amount": fixed(bc, 8)}])
        # GET /fapi/v1/income has it (weight 30).
        _, ping, _ = self.venue.request("GET", "/fapi/v1/ping")
        status, headers, rows = self.venue.signed("GET", "/fapi/v1/income",
                                                  incomeType="FUNDING_FEE")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["X-MBX-USED-WEIGHT-1M"]) - int(ping["X-MBX-USED-WEIGHT-1M"]),
                         30)
        self.assertEqual([(r["incomeType"], r["income"], r["time"], r["symbol"]) for r in rows],
                         [("FUNDING_FEE", fixed(bc, 8), FUNDING_MS, "BTCUSDT")])
        _, _, rows = self.venue.signed("GET", "/fapi/v1/income", incomeType="COMMISSION")
        self.assertTrue(rows and all(r["income"].startswith("-") for r in rows))

    def test_funding_isolated_short_pays_a_negative_rate(self):
        mark, event, before, after = self.settle(
            "-0.00050003", "SELL", "0.050", ("/fapi/v1/marginType", {"marginType": "ISOLATED"}),
            ("/fapi/v1/leverage", {"leverage": 10}))
        exact = -50 * units(mark, 8) * -50003
        self.assertGreaterEqual(exact % 10 ** 11, 10 ** 11 // 2)
        bc = -round_half_away(exact, 10 ** 11)
        self.assertLess(bc, 0)  # shorts pay when the rate is negative
        self.assertEqual(units(after["walletBalance"], 8) - units(before["walletBalance"], 8), bc)
        self.assertEqual(event["a"]["B"][0]["bc"], fixed(bc, 8))
        # Isolated: the balance and that position, nothing else.
        [position] = event["a"]["P"]
        self.assertEqual((position["s"], position["pa"], position["mt"], position["ps"]),
                         ("BTCUSDT", "-0.050", "isolated", "BOTH"))
        self.assertNotEqual(position["iw"], "0")
        self.assertEqual((after["leverage"], after["marginType"]), (10, "ISOLATED"))



class KlinesAndLeverage(VenuePerTest):
    """Leverage and margin type, klines from the printed trades, --skip."""

    def test_leverage_and_margin_type(self):
        self.venue = Venue()
        post = lambda path, **kw: self.venue.signed("POST", path, symbol="BTCUSDT", **kw)
        status, headers, body = post("/fapi/v1/leverage", leverage=10)
        self.assertEqual((status, body),
                         (200, {"leverage": 10, "maxNotionalValue": "20000000",
                                "symbol": "BTCUSDT"}))
        for bad in (0, 126):
            status, _, body = post("/fapi/v1/leverage", leverage=bad)
            self.assertEqual((status, body), (400, {"code": -4028,
                                                    "msg": f"Leverage {bad} is not valid"}))
        status, _, body = self.venue.signed("POST", "/fapi/v1/leverage", symbol="ETHUSDC",
                                            leverage=5)
        self.assertEqual((status, body["code"]), (400, -1121))
        status, _, body = post("/fapi/v1/marginType", marginType="CROSSED")
        self.assertEqual((status, body), (400, {"code": -4046,
                                                "msg": "No need to change margin type."}))
        status, _, body = post("/fapi/v1/marginType", marginType="ISOLATED")
        self.assertEqual((status, body), (200, {"code": 200, "msg": "success"}))
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual((state["account"]["leverage"], state["account"]["marginType"]),
                         (10, "ISOLATED"))

        # Open orders, then a position, hold the margin type where it is.
        _, _, order = post("/fapi/v1/order", side="BUY", type="LIMIT", timeInForce="GTC",
                           quantity="0.010", price="50000.00")
        status, _, body = post("/fapi/v1/marginType", marginType="CROSSED")
        self.assertEqual((status, body), (400, {
            "code": -4047, "msg": "Margin type cannot be changed if there exists open orders."}))
        self.venue.signed("DELETE", "/fapi/v1/order", symbol="BTCUSDT", orderId=order["orderId"])
        _, _, order = post("/fapi/v1/order", side="BUY", type="MARKET", quantity="1.000")
        self.assertEqual(order["status"], "FILLED")
        status, _, body = post("/fapi/v1/marginType", marginType="CROSSED")
        self.assertEqual((status, body), (400, {
            "code": -4048, "msg": "Margin type cannot be changed if there exists position."}))
        # 1 BTC (~61,800 USDT) is more than 125x allows (50,000).
        status, _, body = post("/fapi/v1/leverage", leverage=125)
        self.assertEqual((status, body["code"]), (400, -2027))

        # The account shows it, margin at the set leverage: 1 BTC at the mid / 10.
        _, _, depth = self.venue.request("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 5})
        mid2 = units(depth["bids"][0][0], 2) + units(depth["asks"][0][0], 2)  # 2 x mid, 1e-2
        margin = round_half_away(mid2 * 10 ** 6 // 2, 10)  # 1e-8 USDT
        _, _, account = self.venue.signed("GET", "/fapi/v2/account")
        [position] = account["positions"]
        self.assertEqual((position["leverage"], position["isolated"], position["positionAmt"]),
                         ("10", True, "1.000"))
        self.assertEqual(position["initialMargin"], fixed(margin, 8))
        self.assertEqual(position["maxNotional"], "20000000")
        post("/fapi/v1/order", side="SELL", type="MARKET", quantity="1.000", reduceOnly="true")
        status, _, body = post("/fapi/v1/marginType", marginType="CROSSED")
        self.assertEqual(status, 200, body)
        _, _, account = self.venue.signed("GET", "/fapi/v2/account")
        self.assertIs(account["positions"][0]["isolated"], False)

    def test_kline_without_trades_after_skipping_everything(self):
        # Past the capture's end: nothing is left to send. Its last trade printed before
        # 00:00:00 and its last frames are after it, so the 00:00 kline has no trade: Binance
        # shows such a kline at the previous close with no volume.
        self.venue = Venue("--skip", "400")
        frames = replay_frames()
        trades = [trade_of(d["data"]) for _, d in frames if d["stream"] == "btcusdt@trade"]
        clock = max(d["data"]["E"] for _, d in frames)
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual((state["market"]["sent"], state["market"]["exchangeTime"]),
                         (len(frames), clock))
        self.assertEqual(state["account"]["fundingEvents"], [])  # no position, nothing settled
        _, _, klines = self.venue.request("GET", "/fapi/v1/klines",
                                          {"symbol": "BTCUSDT", "interval": "1m"})
        self.assertEqual(klines, expected_klines(trades, 60000, clock))
        close = fixed(trades[-1][1], 2)
        self.assertEqual(klines[-1], [FUNDING_MS, close, close, close, close, "0.000",
                                      FUNDING_MS + 59999, "0.00000", 0, "0.000", "0.00000", "0"])
        self.assertEqual(klines[-2][4], close)
        self.assertNotEqual(klines[-2][5], "0.000")

    def test_klines_after_skip(self):
        self.venue = Venue("--skip", "240")
        frames = replay_frames()
        skipped = [d for ts, d in frames if ts < frames[0][0] + 240 * 10 ** 9]
        trades = [trade_of(f["data"]) for f in skipped if f["stream"] == "btcusdt@trade"]
        clock = max(f["data"]["E"] for f in skipped)
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual((state["market"]["sent"], state["market"]["exchangeTime"],
                          state["market"]["trades"]), (len(skipped), clock, len(trades)))

        # The depth snapshot already has what was skipped: its id is the last skipped diff's.
        last_diff = [f for f in skipped if f["stream"] == "btcusdt@depth@0ms"][-1]["data"]
        _, _, depth = self.venue.request("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": 5})
        self.assertEqual(depth["lastUpdateId"], last_diff["u"])

        weight = lambda h: int(h["X-MBX-USED-WEIGHT-1M"])
        _, h0, _ = self.venue.request("GET", "/fapi/v1/ping")
        status, h1, klines = self.venue.request("GET", "/fapi/v1/klines",
                                                {"symbol": "BTCUSDT", "interval": "1m"})
        self.assertEqual(status, 200)
        self.assertEqual(weight(h1) - weight(h0), 5)  # limit 500 (default)
        self.assertEqual(klines, expected_klines(trades, 60000, clock))
        self.assertEqual(len(klines), 5)  # 23:54 to 23:58, the last one unfinished
        self.assertEqual(klines[-1][0], clock // 60000 * 60000)
        for interval, ms in (("3m", 180000), ("5m", 300000), ("1h", 3600000), ("1d", 86400000)):
            _, _, got = self.venue.request("GET", "/fapi/v1/klines",
                                           {"symbol": "BTCUSDT", "interval": interval})
            self.assertEqual(got, expected_klines(trades, ms, clock), interval)

        every = expected_klines(trades, 60000, clock)
        cases = [({"limit": 2}, every[-2:], 1), ({"limit": 100}, every, 2),
                 ({"limit": 1000}, every, 5), ({"limit": 1001}, every, 10),
                 ({"startTime": every[1][0] - 1, "limit": 2}, every[1:3], 1),
                 ({"startTime": every[1][0] + 1}, every[2:], 5),
                 ({"endTime": every[2][0]}, every[:3], 5),
                 ({"startTime": every[1][0], "endTime": every[3][0] + 5}, every[1:4], 5)]
        for params, want, w in cases:
            _, before, _ = self.venue.request("GET", "/fapi/v1/ping")
            status, after, got = self.venue.request(
                "GET", "/fapi/v1/klines", dict(symbol="BTCUSDT", interval="1m", **params))
            self.assertEqual((status, got), (200, want), params)
            self.assertEqual(weight(after) - weight(before), w, params)
        for interval in ("1s", "2m", "", "1H"):
            status, _, body = self.venue.request("GET", "/fapi/v1/klines",
                                                 {"symbol": "BTCUSDT", "interval": interval})
            self.assertEqual((status, body), (400, {"code": -1120, "msg": "Invalid interval."}),
                             interval)
        status, _, body = self.venue.request("GET", "/fapi/v1/klines",
                                             {"symbol": "BTCUSDT", "interval": "1m",
                                              "startTime": 2, "endTime": 1})
        self.assertEqual((status, body["code"]), (400, -1023))

        # The replay goes on from there: what it sends next is what came after the skip, and the
        # klines take in the trades it prints.
        ws = self.venue.ws("/stream?streams=btcusdt@trade/btcusdt@depth@0ms")
        rest = [d for ts, d in frames if ts >= frames[0][0] + 240 * 10 ** 9]
        watched = ("btcusdt@trade", "btcusdt@depth@0ms")
        first = json.loads(ws.recv())
        self.assertEqual(first, next(f for f in rest if f["stream"] in watched))
        seen, printed = [first], 0
        while printed < 2000:
            seen.append(json.loads(ws.recv()))
            printed += seen[-1]["stream"] == "btcusdt@trade"
        self.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 3000})
        while (text := ws.recv(timeout=0.5)) is not None:
            seen.append(json.loads(text))
        ws.close()
        _, _, state = self.venue.request("GET", "/keel-test/state")
        taken = rest[:state["market"]["sent"] - len(skipped)]
        self.assertEqual([f for f in taken if f["stream"] in watched], seen)
        trades += [trade_of(f["data"]) for f in seen if f["stream"] == "btcusdt@trade"]
        clock = max([clock] + [f["data"]["E"] for f in taken])
        self.assertEqual(state["market"]["exchangeTime"], clock)
        _, _, klines = self.venue.request("GET", "/fapi/v1/klines",
                                          {"symbol": "BTCUSDT", "interval": "1m"})
        self.assertEqual(klines, expected_klines(trades, 60000, clock))


class Spot(unittest.TestCase):
    """--market spot: Binance spot's /api/v3 on the spot capture, balances in BTC and USDT."""

    D = decimal.Decimal

    @classmethod
    def setUpClass(cls):
        # Enough USDT for a buy of the best ask and more wherever test 1 left the market.
        cls.venue = Venue("--balance", "2000000", "--base-balance", "0.5", spot=True)

    @classmethod
    def tearDownClass(cls):
        assert cls.venue.stop() == 0

    def spot_frames(self):
        with gzip.open(self.venue.capture, "rt") as f:
            return [line.rstrip("\n").split(" ", 1)[1] for line in f]

    def test_1_stream_rebuilds_the_venue_book(self):
        status, headers, body = self.venue.request("GET", "/api/v3/ping")
        self.assertEqual((status, body), (200, {}))
        used = int(headers["X-MBX-USED-WEIGHT-1M"])  # 1 (ping), or more if the minute turned
        status, _, _ = self.venue.request("GET", "/fapi/v1/ping")
        self.assertEqual(status, 404)  # no USD-M paths in spot mode
        lines = self.spot_frames()
        snap_at = next(i for i, t in enumerate(lines) if t.startswith('{"lastUpdateId"'))
        snap_id = json.loads(lines[snap_at])["lastUpdateId"]
        start = next((i for i, t in enumerate(lines[:snap_at]) if '@depth@100ms"' in t
                      and json.loads(t)["data"]["u"] >= snap_id), snap_at + 1)
        expected = [t for t in lines[start:] if t.startswith('{"stream"')]

        names = "btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade"
        ws = self.venue.ws("/stream?streams=" + names)
        self.assertEqual(ws.status, 101)
        received = [ws.recv() for _ in range(100)]
        self.assertEqual(received, expected[:100])

        status, headers, snap = self.venue.request("GET", "/api/v3/depth",
                                                   {"symbol": "BTCUSDT", "limit": 5000})
        self.assertEqual(status, 200)
        self.assertEqual(sorted(snap), ["asks", "bids", "lastUpdateId"])  # spot: no E, T
        # depth(5000) weighs 250: on top of the ping's 1, or alone if a new minute began.
        self.assertIn(int(headers["X-MBX-USED-WEIGHT-1M"]), (used + 250, 250))
        last = snap["lastUpdateId"]
        bids, asks = dict(snap["bids"]), dict(snap["asks"])
        bridged, diffs = False, 0
        deadline = time.time() + 15
        while diffs < 600 and time.time() < deadline:
            frame = json.loads(ws.recv())
            if frame["stream"] != "btcusdt@depth@100ms":
                continue
            d = frame["data"]
            self.assertNotIn("pu", d)
            if not bridged:
                if d["u"] <= last:
                    continue
                self.assertTrue(d["U"] <= last + 1 <= d["u"], (last, d["U"], d["u"]))
                bridged = True
            else:
                self.assertEqual(d["U"], last + 1)
            apply(bids, d["b"])
            apply(asks, d["a"])
            last = d["u"]
            diffs += 1
        self.assertEqual(diffs, 600)
        self.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 600000})
        time.sleep(0.3)  # a frame already on its way when the stall began still goes out
        _, _, now = self.venue.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000})
        # Everything the venue sent before it stalled, however slowly a loaded machine reads it.
        deadline = time.time() + 20
        while last != now["lastUpdateId"] and time.time() < deadline:
            text = ws.recv(timeout=1.0)
            if text is None:
                continue
            frame = json.loads(text)
            if frame["stream"] == "btcusdt@depth@100ms":
                self.assertEqual(frame["data"]["U"], last + 1)
                apply(bids, frame["data"]["b"])
                apply(asks, frame["data"]["a"])
                last = frame["data"]["u"]
        self.assertEqual(now["lastUpdateId"], last)
        top = lambda side, rev: sorted(side.items(), key=lambda l: float(l[0]), reverse=rev)[:300]
        self.assertEqual([tuple(l) for l in now["bids"][:300]], top(bids, True))
        self.assertEqual([tuple(l) for l in now["asks"][:300]], top(asks, False))
        ws.close()
        raw = self.venue.ws("/ws/btcusdt@trade")
        self.assertEqual(raw.status, 101)
        raw.close()

        # Every diff and trade parsed on the grids (spot's sub-lot quantities included).
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual(state["market"]["unparsed"], 0)
        self.assertGreater(state["market"]["trades"], 0)
        # 1s klines (spot has them) from the printed trades: a second well before the clock holds
        # the capture's trades of that second.
        status, headers, klines = self.venue.request(
            "GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1s", "limit": 5})
        self.assertEqual((status, len(klines)), (200, 5))
        self.assertEqual([k[0] for k in klines],
                         [klines[0][0] + 1000 * i for i in range(5)])
        self.assertEqual(klines[-1][0], state["market"]["exchangeTime"] // 1000 * 1000)
        open_ms = klines[-3][0]
        trades = [json.loads(t)["data"] for t in lines if '@trade"' in t]
        second = [t for t in trades if open_ms <= t["T"] < open_ms + 1000]
        self.assertEqual(klines[-3][8], len(second))
        if second:
            self.assertEqual(self.D(klines[-3][5]), sum(self.D(t["q"]) for t in second))
            self.assertEqual(klines[-3][4], second[-1]["p"])

    def order(self, **kw):
        return self.venue.request("POST", "/api/v3/order", order_params(**kw), signed=True)

    def balances(self):
        status, _, body = self.venue.signed("GET", "/api/v3/account")
        self.assertEqual(status, 200)
        return {b["asset"]: (self.D(b["free"]), self.D(b["locked"])) for b in body["balances"]}

    def user_events(self, user):
        out = []
        while (text := user.recv(timeout=0.5)) is not None:
            out.append(json.loads(text))
        return out

    def test_2_trading(self):
        D = self.D
        # The market stands still (test 1 stalled it; stall again when run alone).
        market = self.venue.ws("/stream?streams=btcusdt@depth@100ms")
        time.sleep(0.2)
        self.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 600000})
        time.sleep(0.3)
        market.close()
        status, _, body = self.venue.request("POST", "/api/v3/userDataStream")
        self.assertEqual(len(body["listenKey"]), 60)
        user = self.venue.ws("/ws/" + body["listenKey"])
        self.assertEqual(user.status, 101)
        status, _, body = self.venue.request("PUT", "/api/v3/userDataStream",
                                             {"listenKey": body["listenKey"]})
        self.assertEqual((status, body), (200, {}))
        self.assertEqual(self.balances(), {"BTC": (D("0.5"), 0), "USDT": (D("2000000"), 0)})

        # Signing as on USD-M.
        status, _, body = self.venue.request("POST", "/api/v3/order", order_params(
            side="BUY", type="MARKET", quantity="0.1"), signed=True, tamper=True)
        self.assertEqual((status, body["code"]), (400, -1022))

        # A market buy walks the asks; FULL (the default) lists the fills, commission in BTC.
        _, _, depth = self.venue.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 50})
        # Fills are whole lots (0.00001 BTC) of a level; the book holds finer quantities.
        lots = lambda q: D(q).quantize(D("1e-5"), decimal.ROUND_DOWN)
        # All of the best ask and half of the next level (with its odd 1e-5 BTC).
        amount = lots(depth["asks"][0][1]) + lots(D(depth["asks"][1][1]) / 2)
        want, expected = amount, []
        for price, qty in depth["asks"]:
            take = min(want, lots(qty))
            if take == 0:
                continue
            expected.append((D(price), take))
            want -= take
            if want == 0:
                break
        self.assertGreater(len(expected), 1, "the buy should take more than one level")
        status, _, buy = self.order(side="BUY", type="MARKET", quantity=str(amount),
                                    newClientOrderId="spot-buy")
        self.assertEqual(status, 200, (buy, amount, depth["asks"][:3]))
        self.assertEqual(buy["status"], "FILLED")
        self.assertEqual(D(buy["executedQty"]), amount)
        got = [(D(f["price"]), D(f["qty"])) for f in buy["fills"]]
        self.assertEqual(got, expected)
        for f in buy["fills"]:
            self.assertEqual(f["commissionAsset"], "BTC")
            self.assertEqual(D(f["commission"]), D(f["qty"]) / 1000)  # 0.1 %, exact on 1e-8
            self.assertEqual(len(f["commission"].split(".")[1]), 8)
        quote = sum(p * q for p, q in expected)
        self.assertEqual(D(buy["cummulativeQuoteQty"]), quote)
        fee = sum(D(f["commission"]) for f in buy["fills"])
        self.assertEqual(fee, amount / 1000)
        self.assertEqual(self.balances(),
                         {"BTC": (D("0.5") + amount - fee, 0), "USDT": (2000000 - quote, 0)})
        events = self.user_events(user)
        kinds = [(e["e"], e.get("x")) for e in events]
        self.assertEqual(kinds, [("executionReport", "NEW")] +
                         [("executionReport", "TRADE"), ("outboundAccountPosition", None)]
                         * len(expected))
        trade = events[1]
        for key in "e E s c S o f q p P F g C x X r i l z L n N T t I w m M O Z Y Q W V".split():
            self.assertIn(key, trade)
        self.assertEqual((trade["c"], trade["N"], trade["X"], trade["m"]),
                         ("spot-buy", "BTC", "PARTIALLY_FILLED", False))
        self.assertEqual(events[0]["N"], None)
        self.assertEqual(events[-2]["X"], "FILLED")
        self.assertEqual(D(events[-2]["Z"]), quote)
        pos = {b["a"]: (D(b["f"]), D(b["l"])) for b in events[-1]["B"]}
        self.assertEqual(pos["BTC"], (D("0.5") + amount - fee, 0))

        # A market sell answered ACK: commission in USDT, 0.1 % of the quote, rounded to 1e-8.
        status, _, sell = self.order(side="SELL", type="MARKET", quantity="0.01",
                                     newOrderRespType="ACK")
        self.assertEqual(sorted(sell), ["clientOrderId", "orderId", "orderListId", "symbol",
                                        "transactTime"])
        status, _, trades = self.venue.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT",
                                              orderId=sell["orderId"])
        self.assertTrue(trades)
        for t in trades:
            self.assertEqual((t["commissionAsset"], t["isBuyer"], t["isMaker"]),
                             ("USDT", False, False))
            self.assertEqual(D(t["commission"]),
                             (D(t["quoteQty"]) / 1000).quantize(D("1e-8"), decimal.ROUND_HALF_UP))
        self.user_events(user)

        # myTrades lists the buy's fills as its FULL answer did.
        status, _, trades = self.venue.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT",
                                              orderId=buy["orderId"])
        self.assertEqual([(t["id"], t["price"], t["qty"], t["commission"]) for t in trades],
                         [(f["tradeId"], f["price"], f["qty"], f["commission"])
                          for f in buy["fills"]])

        # A limit buy below the book rests and locks price x quantity; its cancel unlocks it.
        before = self.balances()
        status, _, rest = self.order(side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity="0.01", price="50000.00", newOrderRespType="RESULT")
        self.assertEqual((status, rest["status"]), (200, "NEW"))
        self.assertNotIn("fills", rest)
        after = self.balances()
        self.assertEqual(after["USDT"], (before["USDT"][0] - 500, D(500)))
        self.assertEqual(after["BTC"], before["BTC"])
        events = self.user_events(user)
        self.assertEqual([e["e"] for e in events], ["executionReport", "outboundAccountPosition"])
        self.assertEqual((events[0]["x"], events[0]["w"]), ("NEW", True))
        _, _, open_orders = self.venue.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")
        self.assertEqual([o["orderId"] for o in open_orders], [rest["orderId"]])
        _, _, state = self.venue.request("GET", "/keel-test/state")
        self.assertEqual(state["account"]["balances"]["USDT"]["locked"], "500.00000000")
        self.assertEqual(len(state["account"]["openOrders"]), 1)
        self.assertEqual(state["account"]["ordersPlacedPerClientOrderId"]["spot-buy"], 1)
        # Its client id is taken while it is open.
        status, _, body = self.order(side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01",
                                     price="50000.00", newClientOrderId=rest["clientOrderId"])
        self.assertEqual((status, body), (400, {"code": -2010, "msg": "Duplicate order sent."}))
        status, _, cancel = self.venue.signed("DELETE", "/api/v3/order", symbol="BTCUSDT",
                                              orderId=rest["orderId"])
        self.assertEqual((status, cancel["status"], cancel["origClientOrderId"]),
                         (200, "CANCELED", rest["clientOrderId"]))
        self.assertEqual(self.balances(), before)
        events = self.user_events(user)
        self.assertEqual([(e["e"], e.get("x")) for e in events],
                         [("executionReport", "CANCELED"), ("outboundAccountPosition", None)])
        self.assertEqual(events[0]["C"], rest["clientOrderId"])
        status, _, body = self.venue.signed("DELETE", "/api/v3/order", symbol="BTCUSDT",
                                            orderId=rest["orderId"])
        self.assertEqual((status, body), (400, {"code": -2011, "msg": "Unknown order sent."}))
        status, _, body = self.venue.signed("GET", "/api/v3/order", symbol="BTCUSDT",
                                            orderId=123)
        self.assertEqual((status, body), (400, {"code": -2013, "msg": "Order does not exist."}))
        status, _, body = self.venue.signed("GET", "/api/v3/order", symbol="BTCUSDT",
                                            orderId=rest["orderId"])
        self.assertEqual(body["status"], "CANCELED")

        # LIMIT_MAKER that would take, and orders the balances cannot pay for: -2010.
        ask = depth["asks"][0][0]
        status, _, body = self.order(side="BUY", type="LIMIT_MAKER", quantity="0.01", price=ask)
        self.assertEqual((status, body), (400, {"code": -2010,
                                               "msg": "Order would immediately match and take."}))
        status, _, body = self.order(side="BUY", type="LIMIT_MAKER", quantity="0.01",
                                     price="50000.00", newOrderRespType="ACK")
        self.assertEqual(status, 200)
        self.venue.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
        insufficient = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
        status, _, body = self.order(side="SELL", type="MARKET", quantity="50")
        self.assertEqual((status, body), (400, insufficient))
        status, _, body = self.order(side="BUY", type="LIMIT", timeInForce="GTC", quantity="50",
                                     price="50000")
        self.assertEqual((status, body), (400, insufficient))

        # Filter failures.
        for kw, filt in [(dict(quantity="0.01", price="50000.001"), "PRICE_FILTER"),
                         (dict(quantity="0.000001", price="50000"), "LOT_SIZE"),
                         (dict(quantity="9001", price="1"), "LOT_SIZE"),
                         (dict(quantity="0.0001", price="50000"), "MIN_NOTIONAL")]:
            status, _, body = self.order(side="BUY", type="LIMIT", timeInForce="GTC", **kw)
            self.assertEqual((status, body), (400, {"code": -1013,
                                                   "msg": "Filter failure: " + filt}), kw)
        self.assertEqual(self.user_events(user)[-1]["e"], "outboundAccountPosition")
        user.close()

    def test_3_maker_fill(self):
        D = self.D
        _, _, body = self.venue.request("POST", "/api/v3/userDataStream")
        user = self.venue.ws("/ws/" + body["listenKey"])
        market = self.venue.ws("/stream?streams=btcusdt@trade")
        self.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 600000})
        time.sleep(0.2)
        before = self.balances()
        _, _, depth = self.venue.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})
        bid = depth["bids"][0][0]
        status, _, order = self.order(side="BUY", type="LIMIT_MAKER", quantity="0.05", price=bid,
                                      newClientOrderId="maker-1")
        self.assertEqual((status, order["status"], order["fills"]), (200, "NEW", []))
        self.venue.request("POST", "/keel-test/misbehave", {"what": "stall", "ms": 0})
        fills, last = [], None
        deadline = time.time() + 20
        while (not fills or fills[-1]["X"] != "FILLED") and time.time() < deadline:
            market.recv(timeout=0.1)
            text = user.recv(timeout=0.1)
            if text is None:
                continue
            e = json.loads(text)
            if e["e"] == "executionReport" and e["x"] == "TRADE":
                fills.append(e)
            elif e["e"] == "outboundAccountPosition":
                last = e
        self.assertTrue(fills and fills[-1]["X"] == "FILLED", fills)
        # At its own price, as maker, 0.1 % of the BTC received; the lock is spent exactly.
        for f in fills:
            self.assertEqual((f["L"], f["m"], f["N"], f["c"]), (bid, True, "BTC", "maker-1"))
            self.assertEqual(D(f["n"]), D(f["l"]) / 1000)
        self.assertEqual(sum(D(f["l"]) for f in fills), D("0.05"))
        while (text := user.recv(timeout=0.5)) is not None:
            if (e := json.loads(text))["e"] == "outboundAccountPosition":
                last = e
        pos = {b["a"]: (D(b["f"]), D(b["l"])) for b in last["B"]}
        self.assertEqual(pos["USDT"], (before["USDT"][0] - D(bid) * D("0.05"), 0))
        self.assertEqual(pos["BTC"], (before["BTC"][0] + D("0.05") - D("0.00005"), 0))
        self.assertEqual(self.balances(), pos)
        market.close()
        user.close()


if __name__ == "__main__":
    VENUE, DATA = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])

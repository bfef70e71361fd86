/*
 * keel plugin ABI, version 1.
 *
 * A keel plugin is a shared library exporting exactly one entry point:
 *
 *     KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void);
 *
 * The host calls it first and checks the returned block (magic, ABI major version, struct and
 * pointer sizes) before it touches anything else in the library. A mismatch is refused with a
 * message naming the plugin file and both versions.
 *
 * Rules that keep this ABI stable:
 *  - Every struct begins with `uint32_t struct_size` (sizeof as the writer compiled it). Fields are
 *    only ever appended; a reader ignores fields beyond the size the writer stamped and treats
 *    missing ones as zero/NULL. Fill structs with designated initializers so new fields are zero.
 *  - The host function table (keel_host_api) is append-only. Entries marked "optional" may be NULL.
 *  - Arrays of size-stamped structs (config keys, settings) are strided by element[0].struct_size.
 *  - KEEL_ABI_MAJOR changes only when an existing field changes meaning or position; the host
 *    refuses plugins of another major. KEEL_ABI_MINOR grows when fields are appended.
 *
 * Ownership (applies to every call unless its comment says otherwise):
 *  - The plugin owns its `void *self` from create() until the host calls destroy().
 *  - Strings and arrays the host passes in are borrowed for the duration of the call; copy what
 *    you keep.
 *  - Structs the plugin passes to host functions (events) are borrowed by the host for the duration
 *    of that call; the host copies what it keeps. The plugin may reuse the memory afterwards.
 *  - Nothing allocated on one side is freed on the other.
 *
 * Threads: the host calls a plugin's functions from one thread at a time (the engine thread for
 * exchanges, the notifier thread for notifiers). Host functions may be called from any thread.
 *
 * Prices and sizes cross this boundary as integers: price in ticks of the instrument, quantity in
 * lots. A venue plugin converts the venue's decimal strings exactly once, in the plugin.
 */
#ifndef KEEL_PLUGIN_H
#define KEEL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KEEL_PLUGIN_MAGIC 0x4B45454Cu /* "KEEL" */
#define KEEL_ABI_MAJOR 1u
#define KEEL_ABI_MINOR 6u

#if defined(__GNUC__)
#define KEEL_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define KEEL_PLUGIN_EXPORT
#endif

/* Name of the one symbol every plugin exports. */
#define KEEL_PLUGIN_QUERY_SYMBOL "keel_plugin_query"

typedef enum keel_plugin_kind {
    KEEL_PLUGIN_EXCHANGE = 1, /* descriptor is keel_exchange_plugin */
    KEEL_PLUGIN_NOTIFIER = 2  /* descriptor is keel_notifier_plugin */
} keel_plugin_kind;

/* Return codes of plugin functions. Anything other than KEEL_OK comes with a message written into
 * the caller's error buffer (always NUL-terminated, truncated to its size). */
typedef enum keel_status { KEEL_OK = 0, KEEL_ERROR = 1 } keel_status;

typedef enum keel_log_level {
    KEEL_LOG_DEBUG = 0,
    KEEL_LOG_INFO = 1,
    KEEL_LOG_WARN = 2,
    KEEL_LOG_ERROR = 3
} keel_log_level;

/* ---------------------------------------------------------------------------------------------
 * Plugin configuration schema. The host validates a plugin's YAML `settings` against these keys
 * (unknown keys, wrong types and literal secrets are configuration errors) and fills defaults, so
 * create() always receives every declared key.
 * ------------------------------------------------------------------------------------------- */
typedef enum keel_config_type {
    KEEL_CFG_STRING = 1,
    KEEL_CFG_INT = 2, /* int64 */
    KEEL_CFG_DOUBLE = 3,
    KEEL_CFG_BOOL = 4,
    KEEL_CFG_SECRET = 5, /* string that must come from the environment: ${VAR} in YAML */
    KEEL_CFG_PATH = 6,   /* ABI 1.1: an existing file; the host resolves a relative path against
                            the config file's directory and hands over the result */
    KEEL_CFG_PATHS = 7   /* ABI 1.6: one or more existing files, written as paths separated by
                            commas, each a file or a glob pattern (*, ?, [...]); the host resolves
                            them as KEEL_CFG_PATH, expands each pattern in name order (one that
                            matches nothing is an error) and hands over the files joined by '\n' */
} keel_config_type;

typedef struct keel_config_key {
    uint32_t struct_size;
    const char *name;
    uint32_t type;             /* keel_config_type */
    const char *default_value; /* as YAML text; NULL means the key is required */
    const char *description;   /* one line, shown by generated option docs */
} keel_config_key;

/* One resolved setting handed to create(). */
typedef struct keel_setting {
    uint32_t struct_size;
    const char *name;
    uint32_t type;      /* keel_config_type */
    const char *string; /* STRING and SECRET; never log a SECRET */
    int64_t integer;    /* INT, and BOOL as 0/1 */
    double number;      /* DOUBLE, and INT converted */
} keel_setting;

/* ---------------------------------------------------------------------------------------------
 * Market data handed from an exchange plugin to the host.
 * ------------------------------------------------------------------------------------------- */
typedef uint32_t keel_instrument_id; /* assigned by the host in subscribe() */

typedef struct keel_instrument_def {
    uint32_t struct_size;
    keel_instrument_id id;
    const char *symbol;   /* venue symbol, e.g. "BTCUSDT" */
    const char *base;     /* "BTC" */
    const char *quote;    /* "USDT" */
    double tick_size;     /* price of one tick in quote currency */
    double lot_size;      /* quantity of one lot in base currency */
    int64_t min_qty_lots; /* smallest order, in lots (0 = no minimum) */
    double min_notional;  /* smallest order value in quote currency (0 = no minimum) */
    /* ABI 1.1: how the host keeps this instrument's book in sequence (keel_sequence_rule). */
    uint32_t sequence_rule;
    /* ABI 1.4: an order's quantity must be a multiple of this many lots (0 or 1: any). For a
     * venue whose books carry finer sizes than its orders may (Binance spot: books to 1e-8 BTC,
     * orders on a 0.00001 step), lot_size is the book's unit and this the orders' step. */
    int64_t qty_step_lots;
    /* ABI 1.5: the venue's limits on a limit order's price (0: none). It must lie within
     * [min_price_ticks, max_price_ticks] and within [price_multiplier_down, price_multiplier_up]
     * times the venue's reference price (Binance PERCENT_PRICE: the mark on USD-M, a 5-minute
     * average on spot); the host's gate measures against the mid. */
    int64_t min_price_ticks, max_price_ticks;
    double price_multiplier_up, price_multiplier_down;
} keel_instrument_def;

/* ABI 1.1. The sequence rule a venue's book events follow; the host's sync component buffers
 * deltas until a snapshot, drops stale ones, checks the bridge and continuity, and on a gap
 * discards the book (strategies are not called) and asks the plugin for a new snapshot. */
typedef enum keel_sequence_rule {
    KEEL_SEQ_NONE = 0,            /* no ids: events apply in order; deltas before a snapshot drop */
    KEEL_SEQ_BINANCE_FUTURES = 1, /* first_id = U, sequence = u, prev_id = pu */
    KEEL_SEQ_BINANCE_SPOT = 2,    /* first_id = U, sequence = u */
    KEEL_SEQ_CONTIGUOUS = 3       /* sequence = seq, each the previous + 1 (Kraken Futures) */
} keel_sequence_rule;

typedef struct keel_level {
    int64_t price_ticks;
    int64_t qty_lots; /* absolute quantity at this price; 0 deletes the level */
} keel_level;

/* A book event's levels may come in any order. `sequence` is per instrument (a snapshot's id, or
 * a delta's last id). The host applies the whole event (bids, then asks) before it checks the
 * book, so one delta may move a level from one side to the other. */
typedef struct keel_book_event {
    uint32_t struct_size;
    keel_instrument_id instrument;
    uint32_t is_snapshot; /* 1: replaces the whole book; 0: delta of absolute levels */
    int64_t exchange_ts_ns;
    uint64_t sequence; /* venue sequence number, 0 if none */
    const keel_level *bids;
    uint32_t bid_count;
    const keel_level *asks;
    uint32_t ask_count;
    /* ABI 1.1 */
    uint64_t first_id;     /* a delta's first id (Binance U); 0 if none */
    uint64_t prev_id;      /* the previous delta's last id (Binance pu); 0 if none */
    int64_t receive_ts_ns; /* when the frame carrying it arrived (host clock); 0: now */
} keel_book_event;

typedef enum keel_side { KEEL_SIDE_BUY = 1, KEEL_SIDE_SELL = 2 } keel_side;

typedef struct keel_trade_event {
    uint32_t struct_size;
    keel_instrument_id instrument;
    int64_t exchange_ts_ns;
    int64_t price_ticks;
    int64_t qty_lots;
    uint32_t aggressor; /* keel_side of the taker */
    uint64_t trade_id;
    /* ABI 1.1 */
    int64_t receive_ts_ns; /* when the frame carrying it arrived (host clock); 0: now */
} keel_trade_event;

/* ABI 1.4. A perpetual's mark price and funding as the venue publishes them (Binance
 * markPriceUpdate). A mark lies off the tick grid, so prices are in KEEL_AMOUNT_SCALE units of the
 * quote currency. Stops and take-profits that trigger on the mark read it, and the fill simulator
 * settles funding with the venue's rate whenever an event shows a funding time has passed. */
typedef struct keel_mark_event {
    uint32_t struct_size;
    keel_instrument_id instrument;
    int64_t exchange_ts_ns;
    int64_t receive_ts_ns;   /* when the frame carrying it arrived (host clock); 0: now */
    int64_t mark_amount;     /* the mark price */
    int64_t index_amount;    /* the index price; 0 if not given */
    int64_t funding_rate;    /* of the coming funding, KEEL_AMOUNT_SCALE units (0.01 % = 10000);
                              * longs pay a positive rate */
    int64_t next_funding_ns; /* when it is paid; 0: no funding (not a perpetual) */
} keel_mark_event;

/* ABI 1.4. One closed candle the venue built, for warm-up (request_history). Prices in ticks,
 * volume in lots; `open_time_ns` is aligned to `length_ns` from 00:00 UTC. */
typedef struct keel_candle {
    uint32_t struct_size;
    keel_instrument_id instrument;
    int64_t open_time_ns;
    int64_t length_ns;
    int64_t open_ticks, high_ticks, low_ticks, close_ticks;
    int64_t volume_lots;
    uint64_t trades; /* trades in the interval; 0 for an interval without any */
} keel_candle;

/* ABI 1.1. One raw message for a plugin to parse: a frame from a connection the host holds for
 * it, or a line of a recording being replayed. The bytes are borrowed for the call; `capacity`
 * bytes are readable from `data` (at least size + 64, zero-filled, so SIMD parsers need no copy).
 */
typedef struct keel_frame {
    uint32_t struct_size;
    int64_t receive_ts_ns; /* when it arrived (host clock; the recording's time in a replay) */
    const char *data;
    size_t size;
    size_t capacity;
    /* NULL for a stream frame; for the body of a REST answer, the URL that was requested (and
     * NULL when a recording did not keep it: hftbacktest's bare depth snapshots). */
    const char *url;
    /* ABI 1.2 */
    uint64_t connection; /* the host WebSocket (ws_open) it came on; 0 for answers, recordings */
    uint64_t request;    /* a REST answer: the keel_http_request.user it answers */
    int32_t http_status; /* a REST answer: its HTTP status; 0 when none came (data says why) */
    uint32_t unsent;     /* with http_status 0: 1 if the request certainly never left (safe to
                          * send again), 0 if it may have reached the venue */
    const char *headers; /* a REST answer's headers, "Name: value\r\n" lines; NULL otherwise */
} keel_frame;

/* ABI 1.2. A REST request the host sends for a plugin; the answer comes back to on_frame with
 * `url`, `request`, `http_status` and `headers` set. */
typedef struct keel_http_request {
    uint32_t struct_size;
    const char *method;  /* "GET", "POST", "PUT" or "DELETE" */
    const char *url;     /* https://host[:port]/path?query */
    const char *headers; /* "Name: value\r\n" lines, or NULL; may hold an API key: never logged */
    const char *body;
    size_t body_size;
    int64_t timeout_ns; /* 0: 10 s */
    uint64_t user;      /* echoed in the answer's keel_frame.request */
    uint32_t flags;     /* KEEL_NET_* */
} keel_http_request;

/* Account traffic (signed requests, the user-data stream): never written to a recording. */
#define KEEL_NET_PRIVATE (1u << 0)

typedef enum keel_link_state { KEEL_LINK_UP = 1, KEEL_LINK_DOWN = 2 } keel_link_state;

/* ---------------------------------------------------------------------------------------------
 * ABI 1.2. Trading through a venue (KEEL_CAP_TRADING) and its account stream (KEEL_CAP_ACCOUNT).
 * Only orders the host's risk gate approved ever reach place_order. Stops, take-profits, brackets
 * and OCO stay in the host, which sends them as market orders when they trigger.
 * Amounts of money (fees, balances, P&L) cross as exact integers of 1e-8 of their asset.
 * ------------------------------------------------------------------------------------------- */
#define KEEL_AMOUNT_SCALE 100000000LL /* units of keel amounts per 1 of the asset */

typedef enum keel_order_type { KEEL_ORDER_MARKET = 1, KEEL_ORDER_LIMIT = 2 } keel_order_type;

typedef enum keel_time_in_force {
    KEEL_TIF_GTC = 1,
    KEEL_TIF_IOC = 2,
    KEEL_TIF_FOK = 3,
    KEEL_TIF_POST_ONLY = 4 /* a limit that would take liquidity is rejected (Binance GTX) */
} keel_time_in_force;

#define KEEL_ORDER_REDUCE_ONLY (1u << 0)

typedef struct keel_order_request {
    uint32_t struct_size;
    keel_instrument_id instrument;
    /* Unique per deployment; the same id on a retry of the same order, so the venue refuses a
     * duplicate instead of placing it twice. At most 36 characters of [A-Za-z0-9_-]. */
    const char *client_order_id;
    uint32_t side;          /* keel_side */
    uint32_t type;          /* keel_order_type */
    uint32_t time_in_force; /* keel_time_in_force; market orders ignore it */
    uint32_t flags;         /* KEEL_ORDER_* */
    int64_t price_ticks;    /* limit price; 0 for market orders */
    int64_t qty_lots;
} keel_order_request;

/* Where an order is, as the venue says. */
typedef enum keel_order_state {
    KEEL_ORDER_STATE_NEW = 1, /* accepted and working */
    KEEL_ORDER_STATE_PARTIALLY_FILLED = 2,
    KEEL_ORDER_STATE_FILLED = 3,
    KEEL_ORDER_STATE_CANCELED = 4,
    KEEL_ORDER_STATE_REJECTED = 5,
    KEEL_ORDER_STATE_EXPIRED = 6 /* time in force ran out (IOC/FOK rest, GTX that would take) */
} keel_order_state;

/* Why a venue refused or could not answer, mapped from its own codes (keep `venue_code`). */
typedef enum keel_venue_reason {
    KEEL_VENUE_OK = 0,
    KEEL_VENUE_REJECTED = 1,           /* refused for a reason not listed below */
    KEEL_VENUE_UNKNOWN_OUTCOME = 2,    /* timeout/503/-1007: may or may not be placed; query */
    KEEL_VENUE_RATE_LIMITED = 3,       /* 429 / -1003 / -1015: back off, resend the same id */
    KEEL_VENUE_BANNED = 4,             /* 418: stop sending until retry_after */
    KEEL_VENUE_BAD_TIMESTAMP = 5,      /* -1021: clock offset or recvWindow */
    KEEL_VENUE_BAD_SIGNATURE = 6,      /* -1022 */
    KEEL_VENUE_UNAUTHORIZED = 7,       /* -2014 / -2015 / -1002: key, IP or permissions */
    KEEL_VENUE_INSUFFICIENT_FUNDS = 8, /* -2010 balance, -2019 margin */
    KEEL_VENUE_UNKNOWN_ORDER = 9,      /* -2011 / -2013: cancel or query of an unknown order */
    KEEL_VENUE_DUPLICATE_ORDER = 10,   /* the client order id was already used */
    KEEL_VENUE_FILTER = 11,            /* -1013 / -1111 / -4164: price, lot or notional rule */
    KEEL_VENUE_WOULD_TAKE = 12,        /* -2010 / -5022: a post-only order would have taken */
    KEEL_VENUE_REDUCE_ONLY = 13,       /* -2022: a reduce-only order would increase */
    KEEL_VENUE_TRANSIENT = 14          /* -1001 / -1008 / 5xx before sending: retry later */
} keel_venue_reason;

/* An order's state changed, or it filled. Strings are borrowed for the call. */
typedef struct keel_order_update {
    uint32_t struct_size;
    keel_instrument_id instrument;
    const char *client_order_id;
    const char *venue_order_id; /* NULL until the venue has assigned one */
    uint32_t state;             /* keel_order_state */
    uint32_t side;              /* keel_side */
    uint32_t reason;            /* keel_venue_reason, for REJECTED and EXPIRED */
    int32_t venue_code;         /* the venue's own error code, 0 if none */
    const char *message;        /* the venue's text, may be NULL; never a secret */
    int64_t exchange_ts_ns;
    int64_t qty_lots;         /* the order's quantity */
    int64_t price_ticks;      /* its limit price, 0 for market */
    int64_t filled_lots;      /* cumulative */
    int64_t last_qty_lots;    /* this fill; 0 when the update carries none */
    int64_t last_price_ticks; /* this fill's price */
    uint64_t trade_id;        /* this fill's venue trade id */
    uint32_t maker;           /* 1: this fill provided liquidity */
    int64_t fee_amount;       /* this fill's fee (KEEL_AMOUNT_SCALE units of fee_asset) */
    const char *fee_asset;
    int64_t realized_pnl_amount; /* futures: the P&L this fill realised, in the margin asset */
    /* ABI 1.6. A refusal for RATE_LIMITED or BANNED: the host time (now_ns) from which the venue
     * takes requests again, when the plugin knows it (Retry-After, a weight budget's next
     * minute); 0 if not. The host holds the order until then instead of backing off. */
    int64_t retry_at_ns;
} keel_order_update;

/* A position on an instrument as the venue holds it (futures), after a change or a query. */
typedef struct keel_position_update {
    uint32_t struct_size;
    keel_instrument_id instrument;
    int64_t exchange_ts_ns;
    int64_t qty_lots;          /* signed: > 0 long, < 0 short */
    int64_t entry_price_ticks; /* rounded to the nearest tick (venues average off the grid) */
    int64_t unrealized_pnl_amount;
} keel_position_update;

/* ABI 1.4. Why a balance changed, when the venue says. */
typedef enum keel_balance_reason {
    KEEL_BALANCE_UNSAID = 0,   /* an answer to a query, or the venue did not say */
    KEEL_BALANCE_TRADE = 1,    /* fills: their fees and P&L come with the order updates too */
    KEEL_BALANCE_FUNDING = 2,  /* a perpetual's funding payment (Binance FUNDING_FEE) */
    KEEL_BALANCE_TRANSFER = 3, /* deposit, withdrawal or transfer */
    KEEL_BALANCE_OTHER = 4
} keel_balance_reason;

/* A balance of one asset, after a change or a query. */
typedef struct keel_balance_update {
    uint32_t struct_size;
    const char *asset;
    int64_t exchange_ts_ns;
    int64_t total_amount; /* wallet balance */
    int64_t free_amount;  /* available for new orders (total_amount when has_free is 0) */
    uint32_t has_free;    /* 0: the venue's update did not say what is available */
    /* ABI 1.4 */
    uint32_t reason;       /* keel_balance_reason */
    int64_t change_amount; /* by how much the wallet balance changed (Binance bc); 0 if unsaid */
} keel_balance_update;

/* ---------------------------------------------------------------------------------------------
 * Host function table. `ctx` is the host's per-plugin-instance context passed to create(); hand it
 * back unchanged. Append-only.
 * ------------------------------------------------------------------------------------------- */
typedef void (*keel_timer_fn)(void *user, int64_t now_ns);

typedef struct keel_host_api {
    uint32_t struct_size;
    uint32_t abi_minor; /* KEEL_ABI_MINOR the host was built with */

    /* Log a line under the plugin's name. `msg` is borrowed. */
    void (*log)(void *ctx, uint32_t level, const char *msg);

    /* The host's clock in nanoseconds since the Unix epoch: wall time live and in paper, simulated
     * time in backtests. Plugins never read the system clock themselves. */
    int64_t (*now_ns)(void *ctx);

    /* The entries below are for exchange plugins; they are NULL in the table given to notifiers. */

    /* Run `fn(user, now_ns)` every `period_ns` on the plugin's thread, starting one period from
     * now, until the plugin is destroyed. Returns KEEL_OK or KEEL_ERROR for period_ns <= 0. */
    uint32_t (*add_timer)(void *ctx, int64_t period_ns, keel_timer_fn fn, void *user);

    /* Exchange plugins: describe an instrument the host subscribed to (must precede its events). */
    void (*define_instrument)(void *ctx, const keel_instrument_def *def);
    void (*emit_book)(void *ctx, const keel_book_event *event);
    void (*emit_trade)(void *ctx, const keel_trade_event *event);

    /* ABI 1.1 (optional). A frame the plugin could not use: counted per venue as malformed and
     * logged (rate-limited) with `why`, which must not contain secrets. */
    void (*reject_frame)(void *ctx, const char *why);

    /* ABI 1.1 (optional). A playback plugin (KEEL_CAP_PLAYBACK) has emitted its last event. */
    void (*end_of_data)(void *ctx);

    /* ABI 1.2 (optional). What the venue says about orders, positions and balances: answers to
     * place/cancel/query and the account stream alike. The host merges them by client order id,
     * so the same fill reported twice (an answer and a stream event) is booked once. Report the
     * position of every linear instrument, zeros included, when the account stream comes up:
     * live, the host trades an instrument only once its first position report is in. */
    void (*emit_order_update)(void *ctx, const keel_order_update *update);
    void (*emit_position)(void *ctx, const keel_position_update *update);
    void (*emit_balance)(void *ctx, const keel_balance_update *update);

    /* ABI 1.2 (optional). The network, held by the host on its own thread; what arrives reaches
     * the plugin on the engine thread (on_frame, on_link). TLS peers are verified against the
     * system's certificates or the venue's `ca_file`. All four are refused (0 / KEEL_ERROR) when
     * offline() is 1. ws_open returns a connection id the host keeps open, reconnecting with
     * backoff after a drop and on its own before the venue's connection limit, until ws_close. */
    uint64_t (*ws_open)(void *ctx, const char *url, uint32_t flags); /* flags: KEEL_NET_* */
    uint32_t (*ws_send)(void *ctx, uint64_t connection, const char *data, size_t size);
    void (*ws_close)(void *ctx, uint64_t connection);
    uint32_t (*http_request)(void *ctx, const keel_http_request *request);
    /* 1 when the host feeds this venue stored data (a replay or a backtest): open nothing. */
    uint32_t (*offline)(void *ctx);

    /* ABI 1.3 (optional). One of the venue's limits on new orders: at most `max_orders` in any
     * `interval_ns` (Binance USD-M: 300 per 10 s and 1200 per minute). Call once per limit, from
     * create() or later; a later call for the same interval replaces the earlier one. The host
     * paces live orders to stay inside every declared limit: an order beyond it waits in the
     * host's queue, in time priority, instead of being sent and refused. KEEL_ERROR for
     * max_orders 0 or interval_ns <= 0. */
    uint32_t (*declare_order_limit)(void *ctx, uint32_t max_orders, int64_t interval_ns);

    /* ABI 1.4 (optional). A mark price and funding update (keel_mark_event). */
    void (*emit_mark)(void *ctx, const keel_mark_event *event);
    /* ABI 1.4 (optional). Closed candles answering request_history, oldest first, `count`
     * structs strided by candles[0].struct_size; count 0 says the venue had none. The host seeds
     * its candles and the strategies' indicators with them (candles that overlap what the live
     * feed has built are refused and counted). */
    void (*emit_history)(void *ctx, const keel_candle *candles, uint32_t count);
} keel_host_api;

/* ---------------------------------------------------------------------------------------------
 * Exchange plugin descriptor.
 * ------------------------------------------------------------------------------------------- */
#define KEEL_CAP_L2_BOOK (1ull << 0)   /* emits book snapshots and deltas */
#define KEEL_CAP_TRADES (1ull << 1)    /* emits public trades */
#define KEEL_CAP_SYNTHETIC (1ull << 2) /* generates its own market; needs no network */
#define KEEL_CAP_FRAMES (1ull << 3)    /* parses raw frames (on_frame): live, record, replay */
#define KEEL_CAP_PLAYBACK (1ull << 4)  /* plays stored data back on the simulated clock */
#define KEEL_CAP_TRADING (1ull << 5)   /* ABI 1.2: places and cancels orders (live mode) */
#define KEEL_CAP_ACCOUNT (1ull << 6)   /* ABI 1.2: reports order, position and balance changes */

typedef struct keel_exchange_plugin {
    uint32_t struct_size;
    uint64_t capabilities; /* KEEL_CAP_* */
    const keel_config_key *config_keys;
    uint32_t config_key_count;

    /* Create an instance. `host` and `ctx` stay valid until destroy(). On failure return
     * KEEL_ERROR with a message in err. */
    uint32_t (*create)(const keel_host_api *host, void *ctx, const keel_setting *settings,
                       uint32_t setting_count, void **self, char *err, size_t err_size);
    void (*destroy)(void *self);

    /* Subscribe to a venue symbol under the host's id. The plugin answers with
     * host->define_instrument() before returning, or KEEL_ERROR for an unknown symbol. */
    uint32_t (*subscribe)(void *self, const char *symbol, keel_instrument_id id, char *err,
                          size_t err_size);

    /* Begin producing events (after all subscriptions). */
    uint32_t (*start)(void *self, char *err, size_t err_size);

    /* ABI 1.1 (required with KEEL_CAP_FRAMES). Parse one frame and emit what it carries. Called
     * on the engine thread; a frame it cannot use goes to host->reject_frame. */
    void (*on_frame)(void *self, const keel_frame *frame);
    /* ABI 1.1 (optional). The host found a gap in `id`'s book: fetch a new snapshot (a replay,
     * which cannot fetch, ignores it and waits for one in the recording). */
    void (*request_snapshot)(void *self, keel_instrument_id id);
    /* ABI 1.1 (required with KEEL_CAP_PLAYBACK). After subscribe(): the time its data starts.
     * The host runs the session on the simulated clock from there (timers fire relative to it)
     * and ends it when every playback venue has called host->end_of_data. */
    int64_t (*playback_start)(void *self);

    /* ABI 1.2 (required with KEEL_CAP_TRADING). Send an order the risk gate approved. KEEL_OK
     * means it is on its way; what the venue says comes back through emit_order_update (a
     * refusal as state REJECTED with a reason). KEEL_ERROR only for a request the plugin could
     * not even send (unknown instrument, not connected): the host treats it as rejected. */
    uint32_t (*place_order)(void *self, const keel_order_request *order, char *err,
                            size_t err_size);
    /* Cancel by client order id; the outcome comes back through emit_order_update. */
    uint32_t (*cancel_order)(void *self, keel_instrument_id instrument, const char *client_order_id,
                             char *err, size_t err_size);
    /* Ask for an order's state (resolving an unknown outcome) or, with client_order_id NULL, for
     * every open order, position and balance (reconciliation); answers come back as updates. */
    uint32_t (*query_orders)(void *self, keel_instrument_id instrument, const char *client_order_id,
                             char *err, size_t err_size);

    /* ABI 1.2 (optional). A host WebSocket came up (subscribe, fetch snapshots) or went down
     * (the host has discarded every book of this venue; they resync by snapshot once it is up
     * again). `why` says what happened on a drop. */
    void (*on_link)(void *self, uint64_t connection, uint32_t state, const char *why);

    /* ABI 1.4 (optional). Warm-up: fetch the most recent `count` closed candles of `length_ns`
     * for `id` and hand them to host->emit_history (the one still open is not closed: leave it
     * out). Called on the engine thread after start(), once per instrument and
     * timeframe a strategy uses, unless the config gives a history file for it. KEEL_ERROR with a
     * message for a timeframe the venue does not serve (the host then warms nothing for it). */
    uint32_t (*request_history)(void *self, keel_instrument_id id, int64_t length_ns,
                                uint32_t count, char *err, size_t err_size);

    /* ABI 1.5 (optional). Stop `id`'s market data on the running connection. A plugin that has
     * it also takes subscribe() after start() (again for an id it had, or for a new one): both
     * change the live connection's streams, and a subscription's book comes up by snapshot. The
     * host drops events for an unsubscribed id that were already on their way. */
    uint32_t (*unsubscribe)(void *self, keel_instrument_id id, char *err, size_t err_size);

    /* ABI 1.5 (optional, with KEEL_CAP_TRADING). Send `count` orders the risk gate approved,
     * in this order, in as few requests as the venue allows (Binance USD-M: batches of 5; a
     * venue without batches: one by one). Each order's fate comes back through
     * emit_order_update as with place_order. KEEL_ERROR only when none of them could be sent. */
    uint32_t (*place_orders)(void *self, const keel_order_request *orders, uint32_t count,
                             char *err, size_t err_size);

    /* ABI 1.6 (optional). The session is over and its orders are settled: release what the venue
     * holds for it (Binance: close the user-data stream's listen key). Called once on the engine
     * thread, network still up; answers to requests sent now still reach on_frame for up to 2 s
     * of host clock, then the host closes the network and calls destroy(). */
    void (*stop)(void *self);

    /* ABI 1.6 (optional, with KEEL_CAP_TRADING). Amend a resting limit order the venue has
     * acknowledged: `order` is that order (its client_order_id, instrument, side, type, time in
     * force) as it should now stand, qty_lots the whole new quantity (filled part included) and
     * price_ticks the new price; both approved by the risk gate. The outcome comes back through
     * emit_order_update: the order with its new quantity and price once the venue made the
     * change, or REJECTED with a reason if it refused (the order then stands as it was). KEEL_ERROR
     * for an amendment the plugin cannot send at all (this market cannot amend, not connected). */
    uint32_t (*amend_order)(void *self, const keel_order_request *order, char *err,
                            size_t err_size);
} keel_exchange_plugin;

/* ---------------------------------------------------------------------------------------------
 * Notifier plugin descriptor.
 * ------------------------------------------------------------------------------------------- */
typedef enum keel_notify_level {
    KEEL_NOTIFY_INFO = 0,
    KEEL_NOTIFY_SUCCESS = 1,
    KEEL_NOTIFY_WARNING = 2,
    KEEL_NOTIFY_ERROR = 3
} keel_notify_level;

typedef struct keel_notification {
    uint32_t struct_size;
    uint32_t level; /* keel_notify_level */
    int64_t ts_ns;
    const char *source; /* "risk", "strategy:imbalance", ... */
    const char *title;
    const char *body;
} keel_notification;

typedef struct keel_notifier_plugin {
    uint32_t struct_size;
    uint64_t capabilities;
    const keel_config_key *config_keys;
    uint32_t config_key_count;
    uint32_t (*create)(const keel_host_api *host, void *ctx, const keel_setting *settings,
                       uint32_t setting_count, void **self, char *err, size_t err_size);
    void (*destroy)(void *self);
    /* Deliver one notification; called on the host's notifier thread, never the engine's. */
    uint32_t (*notify)(void *self, const keel_notification *n, char *err, size_t err_size);
} keel_notifier_plugin;

/* ---------------------------------------------------------------------------------------------
 * The block returned by keel_plugin_query(). Static storage in the plugin; valid until dlclose.
 * ------------------------------------------------------------------------------------------- */
typedef struct keel_plugin_info {
    uint32_t struct_size;
    uint32_t magic;          /* KEEL_PLUGIN_MAGIC */
    uint32_t abi_major;      /* KEEL_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;      /* KEEL_ABI_MINOR the plugin was built with */
    uint32_t pointer_size;   /* sizeof(void *) */
    uint32_t kind;           /* keel_plugin_kind */
    const char *name;        /* short name, e.g. "sim" */
    const char *version;     /* plugin's own version string */
    const char *description; /* one line */
    const void *descriptor;  /* keel_exchange_plugin* or keel_notifier_plugin* per kind */
} keel_plugin_info;

/* Convenience for plugin authors: the layout-sensitive constants of this header. */
#define KEEL_PLUGIN_INFO_HEADER                                          \
    .struct_size = sizeof(keel_plugin_info), .magic = KEEL_PLUGIN_MAGIC, \
    .abi_major = KEEL_ABI_MAJOR, .abi_minor = KEEL_ABI_MINOR, .pointer_size = sizeof(void *)

typedef const keel_plugin_info *(*keel_plugin_query_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_PLUGIN_H */

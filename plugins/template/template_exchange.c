/*
 * template_exchange.c: the smallest complete keel exchange plugin, in plain C11.
 *
 * Copy this directory, rename the target in CMakeLists.txt, and replace the fake market with a
 * real venue. docs/plugins.md walks through this file. What it does:
 *   - declares one setting, `price_ticks` (int, default 10000);
 *   - accepts one symbol, "TEST";
 *   - on start() sends a two-level book snapshot and asks the host for a 1 s timer;
 *   - on every timer tick sends one trade, alternately at the ask (buyer) and the bid (seller).
 *
 * Build: keel_add_plugin(keel-exchange-template exchange template template_exchange.c)
 * gives build/plugins/keel-exchange-template.so; use it in a config as `plugin: template`.
 */
#include <keel/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-instance state: the plugin's `void *self`. The host never looks inside. */
typedef struct template_exchange {
    const keel_host_api *host; /* borrowed from create() until destroy() */
    void *ctx;                 /* the host's context: hand it back on every host call */
    int64_t price_ticks;       /* the `price_ticks` setting */
    int subscribed;
    keel_instrument_id id; /* the host's id for TEST */
    uint64_t sequence;     /* of the last book event */
    uint64_t trades;       /* trades sent so far, also the last trade id */
} template_exchange;

/* Every error message goes into the caller's buffer, truncated and NUL-terminated. */
static void set_error(char *err, size_t err_size, const char *msg) {
    if (err && err_size > 0) snprintf(err, err_size, "%s", msg);
}

/* Finds a setting by name. The host validated the YAML against config_keys and filled defaults,
 * so every declared key is present; still, look up by name and never by position. Step through
 * the array by the struct_size the host stamped: a newer host may pass a longer keel_setting. */
static const keel_setting *find_setting(const keel_setting *settings, uint32_t count,
                                        const char *name) {
    if (!settings || count == 0) return NULL;
    const size_t stride = settings[0].struct_size;
    for (uint32_t i = 0; i < count; ++i) {
        const keel_setting *s =
            (const keel_setting *)((const unsigned char *)settings + (size_t)i * stride);
        if (s->name && strcmp(s->name, name) == 0) return s;
    }
    return NULL;
}

/* create(): validate settings, allocate the instance. Nothing is sent to the host yet. */
static uint32_t template_create(const keel_host_api *host, void *ctx, const keel_setting *settings,
                                uint32_t setting_count, void **self, char *err, size_t err_size) {
    const keel_setting *price = find_setting(settings, setting_count, "price_ticks");
    int64_t price_ticks = price ? price->integer : 10000;
    if (price_ticks < 2) {
        set_error(err, err_size, "template: price_ticks must be at least 2");
        return KEEL_ERROR;
    }
    template_exchange *t = calloc(1, sizeof *t);
    if (!t) {
        set_error(err, err_size, "template: out of memory");
        return KEEL_ERROR;
    }
    t->host = host;
    t->ctx = ctx;
    t->price_ticks = price_ticks;
    *self = t;
    return KEEL_OK;
}

/* destroy(): free what create() allocated. The host calls nothing of this instance afterwards,
 * and its timers stop. */
static void template_destroy(void *self) {
    free(self);
}

/* subscribe(): describe the instrument to the host, synchronously, under the host's id. */
static uint32_t template_subscribe(void *self, const char *symbol, keel_instrument_id id, char *err,
                                   size_t err_size) {
    template_exchange *t = self;
    if (!symbol || strcmp(symbol, "TEST") != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "template: unknown symbol \"%s\" (available: TEST)",
                 symbol ? symbol : "");
        set_error(err, err_size, msg);
        return KEEL_ERROR;
    }
    /* Designated initializers: any field a later ABI appends starts as zero. The strings are
     * borrowed by the host for this call only; it copies them. */
    const keel_instrument_def def = {
        .struct_size = sizeof(keel_instrument_def),
        .id = id,
        .symbol = "TEST",
        .base = "TST",
        .quote = "USD",
        .tick_size = 0.01, /* one price tick = 0.01 USD */
        .lot_size = 1.0,   /* one quantity lot = 1 TST */
        .min_qty_lots = 1,
        .min_notional = 0.0,
    };
    t->host->define_instrument(t->ctx, &def);
    t->id = id;
    t->subscribed = 1;
    return KEEL_OK;
}

/* The timer callback: runs on the engine thread, one period after start() and every period
 * after that. Events are stack structs; the host copies what it keeps before emit_* returns. */
static void template_on_timer(void *user, int64_t now_ns) {
    template_exchange *t = user;
    if (!t->subscribed) return;
    const int buyer = t->trades % 2 == 0;
    const keel_trade_event trade = {
        .struct_size = sizeof(keel_trade_event),
        .instrument = t->id,
        .exchange_ts_ns = now_ns,
        .price_ticks = buyer ? t->price_ticks + 1 : t->price_ticks - 1, /* at the ask or bid */
        .qty_lots = 1,
        .aggressor = buyer ? KEEL_SIDE_BUY : KEEL_SIDE_SELL,
        .trade_id = ++t->trades,
    };
    t->host->emit_trade(t->ctx, &trade);
}

/* start(): after all subscriptions. Send the first snapshot, then let the timer drive. */
static uint32_t template_start(void *self, char *err, size_t err_size) {
    template_exchange *t = self;
    if (t->host->add_timer(t->ctx, 1000000000, template_on_timer, t) != KEEL_OK) {
        set_error(err, err_size, "template: the host refused a timer");
        return KEEL_ERROR;
    }
    if (t->subscribed) {
        /* Prices in ticks, sizes in lots, best level first on each side. */
        const keel_level bids[] = {{t->price_ticks - 1, 5}, {t->price_ticks - 2, 10}};
        const keel_level asks[] = {{t->price_ticks + 1, 5}, {t->price_ticks + 2, 10}};
        const keel_book_event snapshot = {
            .struct_size = sizeof(keel_book_event),
            .instrument = t->id,
            .is_snapshot = 1,
            .exchange_ts_ns = t->host->now_ns(t->ctx), /* never the system clock */
            .sequence = ++t->sequence,
            .bids = bids,
            .bid_count = 2,
            .asks = asks,
            .ask_count = 2,
        };
        t->host->emit_book(t->ctx, &snapshot);
    }
    t->host->log(t->ctx, KEEL_LOG_INFO, "template exchange started");
    return KEEL_OK;
}

/* The settings this plugin accepts. The host rejects any other key in the YAML, checks types,
 * fills defaults, and prints these descriptions in generated option docs. */
static const keel_config_key template_config_keys[] = {
    {
        .struct_size = sizeof(keel_config_key),
        .name = "price_ticks",
        .type = KEEL_CFG_INT,
        .default_value = "10000",
        .description = "Price of the fake market, in ticks of 0.01",
    },
};

static const keel_exchange_plugin template_descriptor = {
    .struct_size = sizeof(keel_exchange_plugin),
    .capabilities = KEEL_CAP_L2_BOOK | KEEL_CAP_TRADES | KEEL_CAP_SYNTHETIC,
    .config_keys = template_config_keys,
    .config_key_count = 1,
    .create = template_create,
    .destroy = template_destroy,
    .subscribe = template_subscribe,
    .start = template_start,
};

/* The block the host reads first. KEEL_PLUGIN_INFO_HEADER fills struct_size, magic, the ABI
 * version this file was compiled against and the pointer size. */
static const keel_plugin_info template_info = {
    KEEL_PLUGIN_INFO_HEADER,
    .kind = KEEL_PLUGIN_EXCHANGE,
    .name = "template",
    .version = "0.1.0",
    .description = "Template exchange plugin: one fake symbol, TEST",
    .descriptor = &template_descriptor,
};

/* The one exported symbol. Everything else is static (and the build hides it anyway). */
KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void) {
    return &template_info;
}

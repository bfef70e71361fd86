#pragma once
// Binance request signing (HMAC-SHA256 keys): the query text a signed request carries and the
// signature over it, exactly as Binance computes it. Reproduces every official vector in
// ../shared/data/signing_vectors.json (tests/unit/exchanges/test_binance_signer.cpp).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::binance {

// Lowercase hex of HMAC-SHA256(key = secret, message = payload), both taken as bytes.
std::string hmac_sha256_hex(std::string_view secret, std::string_view payload);

// Percent-encodes a parameter value as application/x-www-form-urlencoded does: RFC 3986
// unreserved characters stay, every other byte (UTF-8 included) becomes %XX, uppercase hex.
// Binance signs the encoded text, so "１２３" is signed as "%EF%BC%91…".
std::string percent_encode(std::string_view value);

// The parameters of a REST request in the order they are added, encoded once.
class Query {
  public:
    Query &add(std::string_view name, std::string_view value);
    Query &add(std::string_view name, long long value);
    const std::string &text() const { return text_; }
    bool empty() const { return text_.empty(); }

  private:
    std::string text_;
};

// The signature of a REST request: over the query string followed directly by the body (no
// separator between them), as the USD-M and spot documentation define `totalParams`.
inline std::string rest_signature(std::string_view secret, std::string_view query,
                                  std::string_view body = {}) {
    std::string total;
    total.reserve(query.size() + body.size());
    total.append(query).append(body);
    return hmac_sha256_hex(secret, total);
}

// The text a WebSocket API request signs: every parameter but `signature`, sorted by name,
// joined as name=value with '&', values as given (not percent-encoded).
std::string ws_api_payload(std::vector<std::pair<std::string, std::string>> params);

}  // namespace keel::binance

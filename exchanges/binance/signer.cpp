#include "signer.hpp"

#include <algorithm>
#include <array>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace keel::binance {

std::string hmac_sha256_hex(std::string_view secret, std::string_view payload) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(payload.data()), payload.size(), digest.data(),
         &size);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(size * 2, '0');
    for (unsigned int i = 0; i < size; ++i) {
        hex[2 * i] = kHex[digest[i] >> 4];
        hex[2 * i + 1] = kHex[digest[i] & 15];
    }
    return hex;
}

std::string percent_encode(std::string_view value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

Query &Query::add(std::string_view name, std::string_view value) {
    if (!text_.empty()) text_.push_back('&');
    text_.append(name).push_back('=');
    text_.append(percent_encode(value));
    return *this;
}

Query &Query::add(std::string_view name, long long value) {
    return add(name, std::to_string(value));
}

std::string ws_api_payload(std::vector<std::pair<std::string, std::string>> params) {
    std::erase_if(params, [](const auto &p) { return p.first == "signature"; });
    std::sort(params.begin(), params.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
    std::string payload;
    for (const auto &[name, value] : params) {
        if (!payload.empty()) payload.push_back('&');
        payload.append(name).append("=").append(value);
    }
    return payload;
}

}  // namespace keel::binance

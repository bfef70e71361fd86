#pragma once
// A throwaway TLS identity for the loopback venue: an EC P-256 key and a self-signed certificate
// for 127.0.0.1 and localhost, made with OpenSSL at start-up so no key ever sits in the repo.

#include <filesystem>
#include <string>

namespace keel::venue {

struct Identity {
    std::string certificate_pem;  // also written to disk: clients trust it as their CA file
    std::string key_pem;          // kept in memory only
};

// Generates the identity and writes the certificate to `certificate_file`. Throws
// std::runtime_error with OpenSSL's reason on failure.
Identity make_identity(const std::filesystem::path &certificate_file);

}  // namespace keel::venue

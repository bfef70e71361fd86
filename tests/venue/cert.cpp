#include "cert.hpp"

#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace keel::venue {

namespace {

[[noreturn]] void fail(const char *what) {
    char reason[256] = "";
    ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
    throw std::runtime_error(std::string("certificate: ") + what + ": " + reason);
}

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string pem_of(const std::function<int(BIO *)> &write) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) fail("PEM encoding");
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
}

}  // namespace

Identity make_identity(const std::filesystem::path &certificate_file) {
    Key key(EVP_EC_gen("P-256"));
    if (!key) fail("EC key");
    Cert cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1) fail("X509_new");
    // A random serial: a client that cached an earlier run's certificate sees a new one.
    unsigned char serial[8];
    if (RAND_bytes(serial, sizeof serial) != 1) fail("serial");
    serial[0] &= 0x7f;
    uint64_t s = 0;
    for (unsigned char b : serial) s = s << 8 | b;
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), s);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
    if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("public key");
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char *>("keel loopback venue"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), name);

    // Self-signed and used both as the server's certificate and as the client's trust anchor,
    // so it is a CA that may also serve; the key ids keep strict verifiers happy.
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::pair<int, const char *> extensions[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,digitalSignature,keyCertSign"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
    };
    for (const auto &[nid, value] : extensions) {
        Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
        if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) fail("extension");
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("signing");

    Identity id;
    id.certificate_pem = pem_of([&](BIO *b) { return PEM_write_bio_X509(b, cert.get()); });
    id.key_pem = pem_of([&](BIO *b) {
        return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    std::ofstream out(certificate_file, std::ios::binary | std::ios::trunc);
    out << id.certificate_pem;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + certificate_file.string());
    return id;
}

}  // namespace keel::venue

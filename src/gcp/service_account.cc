// A service account's tokens: the OAuth 2.0 JWT bearer grant (RFC 7523) as Google documents
// it for server-to-server applications, the assertion signed with OpenSSL.
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/limits.h"
#include "common/redact.h"
#include "common/status.h"
#include "gcp/oauth.h"

namespace bikestream::gcp {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kAssertionLifetimeSeconds = 3600;  // Google's maximum.
constexpr const char* kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct DigestFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using PrivateKey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// An encrypted key gets no passphrase: OpenSSL would otherwise ask for one on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

absl::StatusOr<PrivateKey> ReadPrivateKey(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PrivateKey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr)
                     : nullptr);
  ERR_clear_error();  // What went wrong is said below; the queue must not outlive this call.
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("its private_key is not an RSA private key in PEM");
  }
  return key;
}

absl::StatusOr<std::string> SignSha256(EVP_PKEY* key, const std::string& data) {
  std::unique_ptr<EVP_MD_CTX, DigestFree> context(EVP_MD_CTX_new());
  std::size_t size = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return absl::InternalError("OpenSSL could not sign the token request");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return absl::InternalError("OpenSSL could not sign the token request");
  }
  signature.resize(size);
  return signature;
}

// What Google's token endpoint means by its refusals of an assertion.
std::string ServiceAccountHint(const ServiceAccountKey& key, const std::string& error,
                               const std::string& description) {
  // Google's words for an iat or exp it does not accept.
  if (absl::StrContains(description, "reasonable timeframe") ||
      absl::StrContains(description, "iat and exp")) {
    return "this machine's clock is off; set it right (e.g. timedatectl set-ntp true) and try "
           "again";
  }
  if (IsRefusedGrant(error)) {
    return fmt::format(
        "the key {} of {} may have been deleted or the account disabled; create a new key "
        "(gcloud iam service-accounts keys create KEY.json --iam-account={}) and point "
        "GOOGLE_APPLICATION_CREDENTIALS at it",
        key.private_key_id.empty() ? "in use" : key.private_key_id, key.client_email,
        key.client_email);
  }
  return "";
}

class ServiceAccountCredentials final : public CachingCredentials {
 public:
  ServiceAccountCredentials(ServiceAccountKey key, std::string scope, std::string origin,
                            Clock& clock)
      : CachingCredentials(clock),
        key_(std::move(key)),
        scope_(std::move(scope)),
        who_(fmt::format("service account {} ({})", key_.client_email, origin)),
        http_({.timeout = kTokenRequestTimeout, .max_reply_bytes = limits::kSmallReply}) {}

 protected:
  absl::StatusOr<FetchedToken> Fetch() override {
    auto assertion = MakeJwtAssertion(key_, scope_, clock().Now());
    if (!assertion.ok()) return assertion.status();
    RegisterTemporarySecret(*assertion);
    return RequestToken(
        http_, key_.token_uri,
        http::FormEncode({{"grant_type", kJwtBearerGrant}, {"assertion", *assertion}}), who_,
        [this](const std::string& error, const std::string& description) {
          return ServiceAccountHint(key_, error, description);
        });
  }

 private:
  const ServiceAccountKey key_;
  const std::string scope_;
  const std::string who_;
  http::HttpClient http_;
};

}  // namespace

absl::StatusOr<std::string> MakeJwtAssertion(const ServiceAccountKey& key, const std::string& scope,
                                             TimestampMicros now) {
  auto private_key = ReadPrivateKey(key.private_key);
  if (!private_key.ok()) return private_key.status();
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  const std::int64_t issued_at = now / kMicrosPerSecond;
  const json claims = {{"iss", key.client_email},
                       {"scope", scope},
                       {"aud", key.token_uri},
                       {"iat", issued_at},
                       {"exp", issued_at + kAssertionLifetimeSeconds}};
  const std::string signed_part =
      absl::WebSafeBase64Escape(header.dump()) + "." + absl::WebSafeBase64Escape(claims.dump());
  auto signature = SignSha256(private_key->get(), signed_part);
  if (!signature.ok()) return signature.status();
  return signed_part + "." + absl::WebSafeBase64Escape(*signature);
}

absl::StatusOr<std::unique_ptr<Credentials>> MakeServiceAccountCredentials(ServiceAccountKey key,
                                                                           std::string scope,
                                                                           std::string origin,
                                                                           Clock& clock) {
  // Read once here, so that a bad key fails at start rather than at the first request.
  if (auto private_key = ReadPrivateKey(key.private_key); !private_key.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{} is not a usable service account key: {}; download a new key (gcloud iam "
                    "service-accounts keys create)",
                    origin, MessageOf(private_key.status())));
  }
  return std::make_unique<ServiceAccountCredentials>(std::move(key), std::move(scope),
                                                     std::move(origin), clock);
}

}  // namespace bikestream::gcp

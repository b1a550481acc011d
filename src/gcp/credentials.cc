#include "gcp/credentials.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/redact.h"
#include "common/status.h"
#include "gcp/oauth.h"

namespace bikestream::gcp {
namespace {

using json = nlohmann::json;

constexpr const char* kAdcFileName = "application_default_credentials.json";
constexpr std::chrono::seconds kMetadataTimeout{10};
constexpr const char* kNewKey =
    "create a new key (gcloud iam service-accounts keys create KEY.json --iam-account=ACCOUNT)";
constexpr const char* kLoginAgain = "run `gcloud auth application-default login` again";
constexpr const char* kNoCredentials =
    "no Google Cloud credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account key "
    "file, run `gcloud auth application-default login`, set GOOGLE_OAUTH_ACCESS_TOKEN (e.g. "
    "$(gcloud auth print-access-token)) or run on Google Cloud; for the Pub/Sub emulator set "
    "PUBSUB_EMULATOR_HOST";

class AccessTokenCredentials final : public Credentials {
 public:
  explicit AccessTokenCredentials(std::string token) : token_(std::move(token)) {}
  absl::StatusOr<std::string> AccessToken() override { return token_; }
  void Reject(const std::string&) override {}

 private:
  const std::string token_;
};

class MetadataServerCredentials final : public CachingCredentials {
 public:
  MetadataServerCredentials(std::string metadata_host, Clock& clock)
      : CachingCredentials(clock),
        url_(fmt::format("http://{}/computeMetadata/v1/instance/service-accounts/default/token",
                         metadata_host)),
        http_({.timeout = kMetadataTimeout,
               .max_reply_bytes = limits::kSmallReply,
               .proxy = http::HttpClient::Proxy::kNone}) {}

 protected:
  absl::StatusOr<FetchedToken> Fetch() override {
    auto response = http_.Send("GET", url_, "", {"Metadata-Flavor: Google"});
    // Never reached: not on Google Cloud. Once it has answered, a failure is a blip.
    if (!answered_ && (!response.ok() || response->status == 404)) {
      return absl::UnauthenticatedError(kNoCredentials);
    }
    if (!response.ok()) {
      return absl::UnavailableError(
          fmt::format("the metadata server did not answer: {}", MessageOf(response.status())));
    }
    if (response->status != 200) {
      return absl::UnavailableError(
          fmt::format("the metadata server answered HTTP {} for a token", response->status));
    }
    auto token = ParseTokenReply(response->body, "the metadata server");
    if (token.ok()) answered_ = true;
    return token;
  }

 private:
  const std::string url_;
  http::HttpClient http_;
  bool answered_ = false;  // Only Fetch reads it, under the cache's lock.
};

// What `gcloud auth application-default login` stores: a user's refresh token.
class AuthorizedUserCredentials final : public CachingCredentials {
 public:
  AuthorizedUserCredentials(std::string form, std::string token_uri, std::string origin,
                            Clock& clock)
      : CachingCredentials(clock),
        form_(std::move(form)),
        token_uri_(std::move(token_uri)),
        who_(fmt::format("the user credentials in {}", origin)),
        http_({.timeout = kTokenRequestTimeout, .max_reply_bytes = limits::kSmallReply}) {}

 protected:
  absl::StatusOr<FetchedToken> Fetch() override {
    return RequestToken(
        http_, token_uri_, form_, who_, [](const std::string& error, const std::string&) {
          return IsRefusedGrant(error)
                     ? std::string("the login has expired or was revoked; ") + kLoginAgain
                     : "";
        });
  }

 private:
  const std::string form_;  // Holds the refresh token: never printed.
  const std::string token_uri_;
  const std::string who_;
  http::HttpClient http_;
};

// Names the fields of `required` that `file` lacks, or OK.
absl::Status RequireFields(const json& file, const std::string& origin, const char* type,
                           std::initializer_list<const char*> required, const char* fix) {
  std::string missing;
  for (const char* name : required) {
    if (!StringField(file, name).empty()) continue;
    missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("{} holds {} credentials without {}; {}", origin, type, missing, fix));
}

absl::StatusOr<std::unique_ptr<Credentials>> MakeAuthorizedUser(const json& file,
                                                                std::string token_uri,
                                                                const std::string& origin,
                                                                Clock& clock) {
  if (auto status = RequireFields(file, origin, "authorized_user",
                                  {"client_id", "client_secret", "refresh_token"}, kLoginAgain);
      !status.ok()) {
    return status;
  }
  RegisterSecret(StringField(file, "client_secret"));
  RegisterSecret(StringField(file, "refresh_token"));
  std::string form = http::FormEncode({{"grant_type", "refresh_token"},
                                       {"client_id", StringField(file, "client_id")},
                                       {"client_secret", StringField(file, "client_secret")},
                                       {"refresh_token", StringField(file, "refresh_token")}});
  return std::make_unique<AuthorizedUserCredentials>(std::move(form), std::move(token_uri), origin,
                                                     clock);
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& origin,
                                     const char* fix) {
  auto contents = ReadWholeFile(path, limits::kSmallFile);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: cannot read it ({}); {}", origin, MessageOf(contents.status()), fix));
  }
  return contents;
}

absl::StatusOr<std::unique_ptr<Credentials>> FromFile(const std::string& path,
                                                      const std::string& origin, const char* fix,
                                                      const std::string& scope, Clock& clock) {
  auto contents = ReadFile(path, origin, fix);
  if (!contents.ok()) return contents.status();
  return MakeCredentialsFromJson(*contents, origin, scope, clock);
}

}  // namespace

std::unique_ptr<Credentials> MakeAccessTokenCredentials(std::string token) {
  RegisterSecret(token);
  return std::make_unique<AccessTokenCredentials>(std::move(token));
}

std::unique_ptr<Credentials> MakeMetadataServerCredentials(std::string metadata_host,
                                                           Clock& clock) {
  return std::make_unique<MetadataServerCredentials>(std::move(metadata_host), clock);
}

absl::StatusOr<std::unique_ptr<Credentials>> MakeCredentialsFromJson(const std::string& contents,
                                                                     const std::string& origin,
                                                                     const std::string& scope,
                                                                     Clock& clock) {
  const json file = json::parse(contents, nullptr, /*allow_exceptions=*/false);
  if (!file.is_object()) {
    return absl::InvalidArgumentError(fmt::format(
        "{} is not JSON; it should be a service account key file (gcloud iam service-accounts keys "
        "create) or gcloud's application_default_credentials.json",
        origin));
  }
  const std::string type = StringField(file, "type");
  if (type != "authorized_user" && type != "service_account") {
    return absl::InvalidArgumentError(fmt::format(
        "{} holds credentials of type '{}'; bikestream takes service_account and authorized_user "
        "files (for another kind, set GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token), "
        "with --impersonate-service-account=ACCOUNT to act as a service account)",
        origin, type));
  }
  auto token_uri = TokenUriOf(file, origin);
  if (!token_uri.ok()) return token_uri.status();
  if (type == "authorized_user")
    return MakeAuthorizedUser(file, std::move(*token_uri), origin, clock);
  if (auto status =
          RequireFields(file, origin, "service_account", {"client_email", "private_key"}, kNewKey);
      !status.ok()) {
    return status;
  }
  RegisterSecret(StringField(file, "private_key"));
  ServiceAccountKey key{.client_email = StringField(file, "client_email"),
                        .private_key = StringField(file, "private_key"),
                        .private_key_id = StringField(file, "private_key_id"),
                        .token_uri = std::move(*token_uri)};
  return MakeServiceAccountCredentials(std::move(key), scope, origin, clock);
}

absl::StatusOr<std::unique_ptr<Credentials>> FindDefaultCredentials(
    const CredentialsEnvironment& env, const std::string& scope, Clock& clock) {
  if (!env.access_token.empty()) return MakeAccessTokenCredentials(env.access_token);
  if (!env.credentials_file.empty()) {
    return FromFile(env.credentials_file, "GOOGLE_APPLICATION_CREDENTIALS=" + env.credentials_file,
                    "point it at a service account key file, or unset it", scope, clock);
  }
  if (!env.gcloud_config.empty()) {
    const std::string adc = (std::filesystem::path(env.gcloud_config) / kAdcFileName).string();
    std::error_code error;
    if (std::filesystem::exists(adc, error)) return FromFile(adc, adc, kLoginAgain, scope, clock);
  }
  return MakeMetadataServerCredentials(env.metadata_host, clock);
}

absl::StatusOr<std::shared_ptr<Credentials>> CredentialsFromProcessEnvironment() {
  auto variable = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  // A token pasted with its newline would put a CR/LF into a header.
  CredentialsEnvironment env{.access_token = std::string(
                                 absl::StripAsciiWhitespace(variable("GOOGLE_OAUTH_ACCESS_TOKEN"))),
                             .credentials_file = variable("GOOGLE_APPLICATION_CREDENTIALS"),
                             .gcloud_config = variable("CLOUDSDK_CONFIG")};
  if (env.gcloud_config.empty()) {
    if (std::string home = variable("HOME"); !home.empty()) {
      env.gcloud_config = (std::filesystem::path(home) / ".config" / "gcloud").string();
    }
  }
  if (std::string host = variable("GCE_METADATA_HOST"); !host.empty()) env.metadata_host = host;
  auto credentials = FindDefaultCredentials(env, kCloudPlatformScope, SystemClock());
  if (!credentials.ok()) return credentials.status();
  return std::shared_ptr<Credentials>(std::move(*credentials));
}

}  // namespace bikestream::gcp

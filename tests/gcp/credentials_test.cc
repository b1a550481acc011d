// Credentials as Google's client libraries find them, against a loopback token endpoint that
// verifies each assertion with the openssl command and hands out tokens that expire.
#include "gcp/credentials.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cli/cli_test_util.h"
#include "common/clock.h"
#include "common/limits.h"
#include "gcp/google_api.h"
#include "http/http_client.h"
#include "support/fake_clock.h"
#include "support/google_token_server.h"
#include "support/loopback_server.h"
#include "support/pubsub_emulator_process.h"

namespace bikestream::gcp {
namespace {

using testing_support::FakeClock;
using testing_support::GoogleTokenServer;
using testing_support::TestRsaKey;

constexpr const char* kAccount = "ingest@bikestream-test.iam.gserviceaccount.com";

TimestampMicros RealNow() { return SystemClock().Now(); }

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsTest() : server_(dir_path()), key_(TestRsaKey::Generate(dir_path(), "key")) {}

  std::filesystem::path dir_path() const { return std::filesystem::path(dir_ / ""); }
  std::string WriteFile(const std::string& name, const std::string& contents) {
    std::string path = dir_ / name;
    std::ofstream(path) << contents;
    return path;
  }
  absl::StatusOr<std::unique_ptr<Credentials>> FromJson(const std::string& contents, Clock& clock) {
    return MakeCredentialsFromJson(contents, "key.json", kCloudPlatformScope, clock);
  }
  // Nothing that grants access may appear in an error.
  void ExpectNoSecrets(const std::string& message) {
    EXPECT_EQ(message.find("PRIVATE KEY"), std::string::npos) << message;
    EXPECT_EQ(message.find("ya29."), std::string::npos) << message;
    EXPECT_EQ(message.find("refresh-"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret-456"), std::string::npos) << message;
    EXPECT_EQ(message.find("eyJ"), std::string::npos) << message;  // A signed assertion.
    const std::string key_body = key_.private_pem.substr(key_.private_pem.find('\n') + 1, 40);
    EXPECT_EQ(message.find(key_body), std::string::npos) << message;
  }

  e2e::TempDir dir_;
  GoogleTokenServer server_;
  TestRsaKey key_;
};

TEST_F(CredentialsTest, ServiceAccountTokenComesFromAnAssertionOpensslVerifies) {
  ASSERT_FALSE(key_.private_pem.empty()) << "openssl could not make a test key";
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  auto token = (*credentials)->AccessToken();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(server_.IsValid(*token));
  EXPECT_TRUE(server_.problems().empty()) << server_.problems().front();
  // Cached: an hour's token is not fetched again.
  EXPECT_EQ(*(*credentials)->AccessToken(), *token);
  EXPECT_EQ(server_.grants(), 1);
}

TEST_F(CredentialsTest, AnAssertionSignedWithAnotherKeyIsRefused) {
  auto file = nlohmann::json::parse(server_.AddServiceAccount(kAccount, key_));
  file["private_key"] = TestRsaKey::Generate(dir_path(), "other").private_pem;
  auto credentials = FromJson(file.dump(), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  auto token = (*credentials)->AccessToken();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated) << token.status();
  ASSERT_EQ(server_.problems().size(), 1u);
  EXPECT_EQ(server_.problems()[0], "the signature does not verify with openssl dgst");
}

TEST_F(CredentialsTest, TokensAreFetchedAgainBeforeTheyExpire) {
  server_.set_lifetime_seconds(8);
  FakeClock clock(RealNow());
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), clock);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  const std::string first = *(*credentials)->AccessToken();
  clock.Advance(5 * kMicrosPerSecond);
  EXPECT_EQ(*(*credentials)->AccessToken(), first);
  // A quarter of its life before it expires, a token is replaced.
  clock.Advance(1'500 * kMicrosPerMilli);
  const std::string second = *(*credentials)->AccessToken();
  EXPECT_NE(second, first);
  EXPECT_EQ(server_.grants(), 2);
  EXPECT_TRUE(server_.problems().empty());
}

// A stand-in API that takes only the token server's unexpired tokens, as Google's do.
class TokenCheckingApi {
 public:
  explicit TokenCheckingApi(GoogleTokenServer& tokens)
      : server_([&tokens, this](httplib::Server& server) {
          server.Get("/v1/thing",
                     [&tokens, this](const httplib::Request& request, httplib::Response& response) {
                       Serve(tokens, request, response);
                     });
        }) {}
  std::string url() const { return server_.url() + "/v1/thing"; }
  // A token the service no longer takes, though it has not expired (e.g. its grant was revoked).
  void Refuse(const std::string& token) {
    std::lock_guard lock(mutex_);
    refused_ = token;
  }
  void RefuseAll(bool refuse = true) {
    std::lock_guard lock(mutex_);
    refuse_all_ = refuse;
  }
  int refusals() {
    std::lock_guard lock(mutex_);
    return refusals_;
  }

 private:
  void Serve(GoogleTokenServer& tokens, const httplib::Request& request,
             httplib::Response& response) {
    std::lock_guard lock(mutex_);
    if (refuse_all_ || !tokens.Authorizes(request) ||
        request.get_header_value("Authorization") == "Bearer " + refused_) {
      ++refusals_;
      GoogleTokenServer::AnswerUnauthenticated(response);
      return;
    }
    response.set_content("{}", "application/json");
  }

  std::mutex mutex_;
  std::string refused_;
  bool refuse_all_ = false;
  int refusals_ = 0;
  testing_support::LoopbackServer server_;  // Last: it stops before what its handlers use goes.
};

TEST_F(CredentialsTest, RequestsOutliveSeveralTokens) {
  server_.set_lifetime_seconds(2);
  TokenCheckingApi api(server_);
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  http::HttpClient http(
      {.timeout = std::chrono::seconds(5), .max_reply_bytes = limits::kSmallReply});
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(7);
  int requests = 0;
  while (std::chrono::steady_clock::now() < end) {
    auto response = SendAuthorized(http, credentials->get(), "GET", api.url(), "", {});
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, 200) << "request " << requests;
    ++requests;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(server_.grants(), 4);  // 7 s of 2-second tokens, each replaced at 1.5 s.
  EXPECT_EQ(api.refusals(), 0);
  EXPECT_TRUE(server_.problems().empty());
}

TEST_F(CredentialsTest, A401RefreshesTheTokenOnceAndRetries) {
  TokenCheckingApi api(server_);
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  http::HttpClient http(
      {.timeout = std::chrono::seconds(5), .max_reply_bytes = limits::kSmallReply});
  api.Refuse(*(*credentials)->AccessToken());
  auto response = SendAuthorized(http, credentials->get(), "GET", api.url(), "", {});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(api.refusals(), 1);
  EXPECT_EQ(server_.grants(), 2);

  // A service that refuses every token gets the request twice, not more.
  api.RefuseAll();
  response = SendAuthorized(http, credentials->get(), "GET", api.url(), "", {});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(api.refusals(), 3);
  EXPECT_EQ(server_.grants(), 3);
  api.RefuseAll(false);

  // A token that cannot be refreshed is sent once: its 401 is the answer.
  auto fixed = MakeAccessTokenCredentials("ya29.not-issued");
  response = SendAuthorized(http, fixed.get(), "GET", api.url(), "", {});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(api.refusals(), 4);
}

TEST_F(CredentialsTest, ADeletedKeyStopsWithWhatToDo) {
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  server_.Revoke(kAccount);
  auto token = (*credentials)->AccessToken();
  ASSERT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated) << token.status();
  const std::string message(token.status().message());
  EXPECT_NE(message.find(kAccount), std::string::npos) << message;
  EXPECT_NE(message.find("Invalid JWT Signature."), std::string::npos) << message;
  EXPECT_NE(message.find("gcloud iam service-accounts keys create"), std::string::npos) << message;
  EXPECT_NE(message.find("GOOGLE_APPLICATION_CREDENTIALS"), std::string::npos) << message;
  ExpectNoSecrets(message);
}

TEST_F(CredentialsTest, ASkewedClockIsNamed) {
  FakeClock clock(RealNow() + 2 * 3600 * kMicrosPerSecond);
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), clock);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  auto token = (*credentials)->AccessToken();
  ASSERT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated) << token.status();
  EXPECT_NE(token.status().message().find("clock is off"), std::string::npos) << token.status();
}

TEST_F(CredentialsTest, AuthorizedUserRefreshesAndARevokedLoginSaysLogInAgain) {
  auto credentials = FromJson(server_.AddAuthorizedUser("refresh-789"), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  auto token = (*credentials)->AccessToken();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(server_.IsValid(*token));
  EXPECT_TRUE(server_.problems().empty()) << server_.problems().front();

  server_.Revoke("refresh-789");
  (*credentials)->Reject(*token);
  auto refused = (*credentials)->AccessToken();
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated) << refused.status();
  const std::string message(refused.status().message());
  EXPECT_NE(message.find("Token has been expired or revoked."), std::string::npos) << message;
  EXPECT_NE(message.find("gcloud auth application-default login"), std::string::npos) << message;
  ExpectNoSecrets(message);
}

TEST_F(CredentialsTest, WhileTheTokenEndpointIsDownTheCurrentTokenServesUntilItExpires) {
  server_.set_lifetime_seconds(8);
  FakeClock clock(RealNow());
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), clock);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  const std::string first = *(*credentials)->AccessToken();
  server_.set_failure(503);
  clock.Advance(7 * kMicrosPerSecond);  // Past its refresh, before it expires.
  EXPECT_EQ(*(*credentials)->AccessToken(), first);
  clock.Advance(2 * kMicrosPerSecond);
  auto expired = (*credentials)->AccessToken();
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnavailable) << expired.status();
  EXPECT_NE(expired.status().message().find("HTTP 503"), std::string::npos) << expired.status();
  server_.set_failure(0);
  auto fresh = (*credentials)->AccessToken();
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_NE(*fresh, first);
}

TEST_F(CredentialsTest, ATokenEndpointThatSaysSlowDownIsWorthRetrying) {
  auto credentials = FromJson(server_.AddServiceAccount(kAccount, key_), SystemClock());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  server_.set_failure(429);
  auto token = (*credentials)->AccessToken();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable) << token.status();
  server_.set_failure(403);  // A proxy's page, not an OAuth error.
  token = (*credentials)->AccessToken();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated) << token.status();
  EXPECT_NE(token.status().message().find("not an OAuth error"), std::string::npos)
      << token.status();
}

TEST_F(CredentialsTest, AMetadataServerBlipIsNotTheEndOfTheCredentials) {
  server_.set_lifetime_seconds(8);
  FakeClock clock(RealNow());
  auto credentials = MakeMetadataServerCredentials(server_.host(), clock);
  const std::string first = *credentials->AccessToken();
  EXPECT_EQ(first.rfind("ya29.test-metadata", 0), 0u) << first;
  server_.set_failure(503);
  clock.Advance(7 * kMicrosPerSecond);
  EXPECT_EQ(*credentials->AccessToken(), first);  // Still valid: it serves.
  clock.Advance(2 * kMicrosPerSecond);
  auto expired = credentials->AccessToken();
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnavailable) << expired.status();
  server_.set_failure(0);
  EXPECT_TRUE(credentials->AccessToken().ok());
}

TEST_F(CredentialsTest, AnEncryptedKeyIsRefusedWithoutAskingForAPassphrase) {
  const std::string path = dir_ / "encrypted.pem";
  ASSERT_EQ(
      std::system(
          ("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:x "
           "-out '" +
           path + "' 2>/dev/null")
              .c_str()),
      0);
  std::ifstream in(path);
  auto file = nlohmann::json::parse(server_.AddServiceAccount(kAccount, key_));
  file["private_key"] = std::string(std::istreambuf_iterator<char>(in), {});
  auto credentials = FromJson(file.dump(), SystemClock());
  ASSERT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(credentials.status().message().find("not an RSA private key"), std::string::npos);
}

TEST_F(CredentialsTest, MalformedFilesSayWhatToFix) {
  struct Case {
    std::string contents;
    std::string says;
  };
  auto key = nlohmann::json::parse(server_.AddServiceAccount(kAccount, key_));
  auto without_key = key;
  without_key.erase("private_key");
  auto bad_pem = key;
  bad_pem["private_key"] = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  auto plain_http = key;
  plain_http["token_uri"] = "http://oauth2.example.com/token";
  auto with_password = key;
  with_password["token_uri"] = "https://user:TokenUriPassw0rd@oauth2.example.com/token";
  const std::vector<Case> cases = {
      {"{ not json", "is not JSON"},
      {R"({"type": "external_account"})", "type 'external_account'"},
      {without_key.dump(), "credentials without private_key;"},
      {bad_pem.dump(), "not an RSA private key"},
      {plain_http.dump(),
       "token_uri http://oauth2.example.com/token is refused: the credentials go to an https:// "
       "URL"},
      {with_password.dump(), "token_uri https://user:***@oauth2.example.com/token is refused"},
      {R"({"type": "authorized_user", "client_id": "x"})", "without client_secret, refresh_token;"},
  };
  for (const auto& c : cases) {
    auto credentials = FromJson(c.contents, SystemClock());
    ASSERT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument) << c.says;
    const std::string message(credentials.status().message());
    EXPECT_NE(message.find("key.json"), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
    ExpectNoSecrets(message);
    EXPECT_EQ(message.find("TokenUriPassw0rd"), std::string::npos) << message;
  }
}

TEST_F(CredentialsTest, DefaultCredentialsAreLookedForInGooglesOrder) {
  const std::string key_file = WriteFile("key.json", server_.AddServiceAccount(kAccount, key_));
  std::filesystem::create_directories(dir_ / "gcloud");
  WriteFile("gcloud/application_default_credentials.json", server_.AddAuthorizedUser("refresh-1"));
  const CredentialsEnvironment everything{.access_token = "ya29.given",
                                          .credentials_file = key_file,
                                          .gcloud_config = dir_ / "gcloud",
                                          .metadata_host = server_.host()};
  auto token_of = [&](const CredentialsEnvironment& env) -> std::string {
    auto credentials = FindDefaultCredentials(env, kCloudPlatformScope, SystemClock());
    if (!credentials.ok()) return std::string(credentials.status().message());
    auto token = (*credentials)->AccessToken();
    return token.ok() ? *token : std::string(token.status().message());
  };
  CredentialsEnvironment env = everything;
  EXPECT_EQ(token_of(env), "ya29.given");
  env.access_token.clear();
  EXPECT_EQ(token_of(env).rfind("ya29.test-" + std::string(kAccount), 0), 0u) << token_of(env);
  env.credentials_file.clear();
  EXPECT_EQ(token_of(env).rfind("ya29.test-user", 0), 0u) << token_of(env);
  env.gcloud_config = dir_ / "nothing-here";
  EXPECT_EQ(token_of(env).rfind("ya29.test-metadata", 0), 0u) << token_of(env);

  // A file named by GOOGLE_APPLICATION_CREDENTIALS that is not there is an error, never skipped.
  env = everything;
  env.access_token.clear();
  env.credentials_file = dir_ / "missing.json";
  auto missing = FindDefaultCredentials(env, kCloudPlatformScope, SystemClock());
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(
      missing.status().message().find("GOOGLE_APPLICATION_CREDENTIALS=" + env.credentials_file),
      std::string::npos)
      << missing.status();

  // Nothing anywhere: every option is named.
  const CredentialsEnvironment nothing{
      .metadata_host = "127.0.0.1:" + std::to_string(testing_support::FreeLoopbackPort())};
  const std::string none = token_of(nothing);
  for (const char* option :
       {"GOOGLE_APPLICATION_CREDENTIALS", "gcloud auth application-default login",
        "GOOGLE_OAUTH_ACCESS_TOKEN", "PUBSUB_EMULATOR_HOST"}) {
    EXPECT_NE(none.find(option), std::string::npos) << none;
  }
  EXPECT_TRUE(server_.problems().empty());
}

TEST(CheckEndpointTest, CredentialsGoOnlyOverHttpsOrToThisMachine) {
  EXPECT_EQ(*CheckEndpoint("https://europe-west1-pubsub.googleapis.com/", "--pubsub-endpoint"),
            "https://europe-west1-pubsub.googleapis.com");
  EXPECT_TRUE(CheckEndpoint("http://127.0.0.1:8085", "--pubsub-endpoint").ok());
  EXPECT_TRUE(CheckEndpoint("http://localhost/", "--pubsub-endpoint").ok());
  EXPECT_TRUE(CheckEndpoint("http://[::1]:8085", "--pubsub-endpoint").ok());
  for (const char* refused :
       {"http://pubsub.example.com", "http://127.0.0.1.example.com", "ftp://x", "pubsub",
        "http://localhost:80@evil.example/", "http://127.0.0.1:x@evil.example",
        "https://user:password@pubsub.googleapis.com"}) {
    auto endpoint = CheckEndpoint(refused, "--pubsub-endpoint");
    ASSERT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument) << refused;
    EXPECT_NE(endpoint.status().message().find("--pubsub-endpoint"), std::string::npos);
  }
}

TEST(FormEncodeTest, EscapesEveryField) {
  EXPECT_EQ(http::FormEncode(
                {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"a b", "x+y&z="}}),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&a%20b=x%2By%26z%3D");
}

}  // namespace
}  // namespace bikestream::gcp

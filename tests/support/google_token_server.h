// A loopback stand-in for Google's OAuth 2.0 token endpoint (https://oauth2.googleapis.com/token)
// and the metadata server's token URL, owned by the tests. It checks what Google checks — the
// JWT bearer assertion's RS256 signature, verified by the `openssl dgst` command (not the
// product's code), and its claims; the refresh-token grant's client and token — and answers
// as Google does, including its refusals. Tokens it hands out live as long as the test says,
// and `IsValid` tells a stand-in API whether a bearer token is one of them, unexpired.
#pragma once

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "support/loopback_server.h"

namespace bikestream::testing_support {

// An RSA key made by the openssl command, as Google's key files hold it (PKCS#8 PEM).
struct TestRsaKey {
  std::string private_pem;
  std::string public_pem_path;

  static TestRsaKey Generate(const std::filesystem::path& dir, const std::string& name) {
    const std::string private_path = (dir / (name + ".pem")).string();
    TestRsaKey key{.public_pem_path = (dir / (name + ".pub.pem")).string()};
    const std::string command = fmt::format(
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '{}' 2>/dev/null && "
        "openssl pkey -in '{}' -pubout -out '{}' 2>/dev/null",
        private_path, private_path, key.public_pem_path);
    if (std::system(command.c_str()) != 0) return key;
    std::ifstream in(private_path);
    key.private_pem.assign(std::istreambuf_iterator<char>(in), {});
    return key;
  }
};

class GoogleTokenServer {
 public:
  static constexpr const char* kClockSkew =
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
      "Check your iat and exp values in the JWT claim.";

  explicit GoogleTokenServer(std::filesystem::path work_dir)
      : work_dir_(std::move(work_dir)),
        server_([this](httplib::Server& server) { Routes(server); }) {}

  std::string token_uri() const { return server_.url() + "/token"; }
  std::string host() const { return server_.host(); }

  // A service account whose assertions verify against `key`.
  std::string AddServiceAccount(const std::string& email, const TestRsaKey& key) {
    std::lock_guard lock(mutex_);
    accounts_[email] = key.public_pem_path;
    return nlohmann::json{{"type", "service_account"},
                          {"project_id", "bikestream-test"},
                          {"private_key_id", "key-" + email.substr(0, email.find('@'))},
                          {"private_key", key.private_pem},
                          {"client_email", email},
                          {"client_id", "1234567890"},
                          {"token_uri", token_uri()}}
        .dump(2);
  }
  // A user's refresh token, as `gcloud auth application-default login` stores it.
  std::string AddAuthorizedUser(const std::string& refresh_token) {
    std::lock_guard lock(mutex_);
    refresh_tokens_[refresh_token] = true;
    return nlohmann::json{{"type", "authorized_user"},
                          {"client_id", "client-123.apps.googleusercontent.com"},
                          {"client_secret", "secret-456"},
                          {"refresh_token", refresh_token},
                          {"token_uri", token_uri()}}
        .dump(2);
  }
  // Deletes the account's key (Google then says "Invalid JWT Signature.") or revokes the
  // refresh token.
  void Revoke(const std::string& account_or_refresh_token) {
    std::lock_guard lock(mutex_);
    accounts_.erase(account_or_refresh_token);
    refresh_tokens_.erase(account_or_refresh_token);
  }
  // While not 0, every request (token endpoint and metadata server) gets this HTTP status, as
  // in an outage (503) or when Google slows clients down (429).
  void set_failure(int status) {
    std::lock_guard lock(mutex_);
    failure_ = status;
  }
  void set_lifetime_seconds(int seconds) {
    std::lock_guard lock(mutex_);
    lifetime_seconds_ = seconds;
  }

  bool IsValid(const std::string& access_token) {
    std::lock_guard lock(mutex_);
    const auto found = issued_.find(access_token);
    return found != issued_.end() && std::chrono::steady_clock::now() < found->second;
  }
  // For a stand-in API: whether `request` carries one of these tokens, unexpired, as
  // `Authorization: Bearer`.
  bool Authorizes(const httplib::Request& request) {
    const std::string bearer = request.get_header_value("Authorization");
    return bearer.rfind("Bearer ", 0) == 0 && IsValid(bearer.substr(7));
  }
  // What Google's APIs answer a request without a valid token.
  static void AnswerUnauthenticated(httplib::Response& response) {
    response.status = 401;
    response.set_content(
        R"({"error":{"code":401,"status":"UNAUTHENTICATED","message":"bad token"}})",
        "application/json");
  }

  int grants() {
    std::lock_guard lock(mutex_);
    return grants_;
  }
  // What was wrong with requests that should not have been made (a claim, the signature, a
  // form field); empty when every request was as Google wants it.
  std::vector<std::string> problems() {
    std::lock_guard lock(mutex_);
    return problems_;
  }

 private:
  void Routes(httplib::Server& server) {
    server.Post("/token", [this](const httplib::Request& request, httplib::Response& response) {
      Grant(request, response);
    });
    server.Get("/computeMetadata/v1/instance/service-accounts/default/token",
               [this](const httplib::Request& request, httplib::Response& response) {
                 if (Failing(response)) return;
                 if (request.get_header_value("Metadata-Flavor") != "Google") {
                   response.status = 403;
                   return;
                 }
                 Issue(response, "metadata");
               });
  }

  bool Failing(httplib::Response& response) {
    std::lock_guard lock(mutex_);
    if (failure_ != 0) response.status = failure_;
    return failure_ != 0;
  }

  void Grant(const httplib::Request& request, httplib::Response& response) {
    if (Failing(response)) return;
    if (request.get_header_value("Content-Type") != "application/x-www-form-urlencoded") {
      return Refuse(response, 400, "invalid_request",
                    "the form must be application/x-www-form-urlencoded");
    }
    const std::string grant_type = request.get_param_value("grant_type");
    if (grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return JwtGrant(request.get_param_value("assertion"), response);
    }
    if (grant_type == "refresh_token") {
      std::lock_guard lock(mutex_);
      if (request.get_param_value("client_id") != "client-123.apps.googleusercontent.com" ||
          request.get_param_value("client_secret") != "secret-456") {
        problems_.emplace_back("refresh grant with the wrong client");
      }
      if (!refresh_tokens_.contains(request.get_param_value("refresh_token"))) {
        return RefuseLocked(response, 400, "invalid_grant", "Token has been expired or revoked.");
      }
      return IssueLocked(response, "user");
    }
    Refuse(response, 400, "unsupported_grant_type", "Invalid grant_type: " + grant_type);
  }

  void JwtGrant(const std::string& assertion, httplib::Response& response) {
    const std::vector<std::string> parts = absl::StrSplit(assertion, '.');
    std::string header_text, claims_text, signature;
    if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[0], &header_text) ||
        !absl::WebSafeBase64Unescape(parts[1], &claims_text) ||
        !absl::WebSafeBase64Unescape(parts[2], &signature)) {
      return Problem(response, "the assertion is not three base64url parts");
    }
    const auto header = nlohmann::json::parse(header_text, nullptr, false);
    const auto claims = nlohmann::json::parse(claims_text, nullptr, false);
    if (!header.is_object() || header.value("alg", "") != "RS256" ||
        header.value("typ", "") != "JWT") {
      return Problem(response, "the header is not {alg: RS256, typ: JWT}: " + header_text);
    }
    if (!claims.is_object() || !claims.contains("iat") || !claims.contains("exp") ||
        !claims["iat"].is_number_integer() || !claims["exp"].is_number_integer()) {
      return Problem(response, "the claims lack integer iat and exp: " + claims_text);
    }
    std::lock_guard lock(mutex_);
    const std::string email = claims.value("iss", "");
    const auto account = accounts_.find(email);
    if (account == accounts_.end())
      return RefuseLocked(response, 400, "invalid_grant", "Invalid JWT Signature.");
    if (!Verifies(parts[0] + "." + parts[1], signature, account->second)) {
      problems_.emplace_back("the signature does not verify with openssl dgst");
      return RefuseLocked(response, 400, "invalid_grant", "Invalid JWT Signature.");
    }
    if (claims.value("aud", "") != token_uri())
      problems_.push_back("aud is not the token_uri: " + claims_text);
    if (claims.value("scope", "") != "https://www.googleapis.com/auth/cloud-platform") {
      problems_.push_back("scope is not cloud-platform: " + claims_text);
    }
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const std::int64_t iat = claims["iat"], exp = claims["exp"];
    if (exp <= iat) problems_.push_back("exp is not after iat: " + claims_text);
    // Google allows a few minutes of skew and an hour of life.
    if (iat > now + 300 || exp < now - 300 || exp - iat > 3600) {
      return RefuseLocked(response, 400, "invalid_grant", kClockSkew);
    }
    IssueLocked(response, email);
  }

  bool Verifies(const std::string& signed_part, const std::string& signature,
                const std::string& public_pem) {
    const auto base =
        work_dir_ / fmt::format("jwt-{}", grants_ + static_cast<int>(problems_.size()));
    std::ofstream(base.string() + ".data", std::ios::binary) << signed_part;
    std::ofstream(base.string() + ".sig", std::ios::binary) << signature;
    const std::string command = fmt::format(
        "openssl dgst -sha256 -verify '{}' -signature '{}.sig' '{}.data' >/dev/null 2>&1",
        public_pem, base.string(), base.string());
    return std::system(command.c_str()) == 0;
  }

  void Issue(httplib::Response& response, const std::string& who) {
    std::lock_guard lock(mutex_);
    IssueLocked(response, who);
  }
  void IssueLocked(httplib::Response& response, const std::string& who) {
    ++grants_;
    const std::string token = fmt::format("ya29.test-{}-{}", who, grants_);
    issued_[token] = std::chrono::steady_clock::now() + std::chrono::seconds(lifetime_seconds_);
    response.set_content(
        nlohmann::json{
            {"access_token", token}, {"expires_in", lifetime_seconds_}, {"token_type", "Bearer"}}
            .dump(),
        "application/json");
  }

  void Problem(httplib::Response& response, const std::string& problem) {
    std::lock_guard lock(mutex_);
    problems_.push_back(problem);
    RefuseLocked(response, 400, "invalid_grant", "Invalid JWT.");
  }
  void Refuse(httplib::Response& response, int status, const std::string& error,
              const std::string& description) {
    std::lock_guard lock(mutex_);
    RefuseLocked(response, status, error, description);
  }
  static void RefuseLocked(httplib::Response& response, int status, const std::string& error,
                           const std::string& description) {
    response.status = status;
    response.set_content(
        nlohmann::json{{"error", error}, {"error_description", description}}.dump(),
        "application/json");
  }

  const std::filesystem::path work_dir_;
  std::mutex mutex_;
  std::map<std::string, std::string> accounts_;  // email → public key file
  std::map<std::string, bool> refresh_tokens_;
  std::map<std::string, std::chrono::steady_clock::time_point> issued_;
  int lifetime_seconds_ = 3600;
  int failure_ = 0;
  int grants_ = 0;
  std::vector<std::string> problems_;
  LoopbackServer server_;  // Last: it stops before what its handlers use goes.
};

}  // namespace bikestream::testing_support

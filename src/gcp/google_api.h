// What every Google Cloud REST API shares: how its HTTP statuses and JSON error bodies map to
// Status codes, which of those are worth retrying, and how long to back off.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/retry.h"
#include "gcp/credentials.h"
#include "http/http_client.h"

namespace bikestream::gcp {

// The canonical code of an HTTP status, as Google's APIs use them.
absl::StatusCode CodeForHttp(long status);

// Worth retrying with backoff: kUnavailable, kResourceExhausted, kDeadlineExceeded, kAborted.
bool IsRetryable(const absl::Status& status);

// Backoff for Google's APIs: 100 ms doubling to 10 s with full jitter, 6 attempts.
RetryPolicy DefaultRetryPolicy();

// "SERVICE OPERATION: HTTP 404 NOT_FOUND: Topic not found (HINT)" from a reply that is not
// 2xx, with the service's own status and message from its error body when it has one.
// `hint_for` says what to check for a code ("" for nothing).
absl::Status ErrorFromReply(std::string_view service, std::string_view operation,
                            const http::HttpResponse& response,
                            const std::function<std::string(absl::StatusCode)>& hint_for);

// Sends a request with `Authorization: Bearer` from `credentials` (none when null). A 401
// rejects that token and sends once more with a fresh one, where the credentials can refresh.
// When no token could be had, the credentials' own error, for which IsCredentialsError holds.
absl::StatusOr<http::HttpResponse> SendAuthorized(http::HttpClient& http, Credentials* credentials,
                                                  const std::string& method, const std::string& url,
                                                  const std::string& body,
                                                  std::vector<std::string> headers);

// How a JSON call to one of Google's REST APIs names itself in its errors.
struct JsonCall {
  std::string_view service;  // "BigQuery", "Spanner", "Pub/Sub".
  std::string_view what;     // The operation.
  // The error of a reply that is not 2xx.
  std::function<absl::Status(const http::HttpResponse&)> error_from_reply;
  // Appended to an error of the transport as " (HINT)"; "" for none.
  std::string_view transport_hint;
  // The body's type: JSON, or a media upload's multipart/related with its boundary.
  std::string_view content_type = "application/json";
};

// Sends `body` (JSON, unless `call.content_type` says otherwise) as SendAuthorized does and
// returns the reply's JSON object (empty for a reply with no body, as a delete's). Errors:
// "SERVICE WHAT: ..." with the transport's code; `call.error_from_reply` for a reply that is not
// 2xx; kUnavailable for a reply that is not a JSON object; the credentials' own, as they are.
absl::StatusOr<nlohmann::json> SendJson(http::HttpClient& http, Credentials* credentials,
                                        const std::string& method, const std::string& url,
                                        const std::string& body, const JsonCall& call);

// An endpoint URL given by `flag` (e.g. "--pubsub-endpoint"), without a trailing '/'. Requests
// to it carry credentials, so it must be https (plain http only to this machine).
absl::StatusOr<std::string> CheckEndpoint(const std::string& url, const std::string& flag);

// Whether a failed SendAuthorized failed for want of a token: such errors say what to fix
// already, and a client passes them on as they are.
bool IsCredentialsError(const absl::Status& status);

}  // namespace bikestream::gcp

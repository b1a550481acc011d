#include "warehouse/spanner/client.h"

#include <fmt/format.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "common/limits.h"
#include "common/mutex.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/timestamp.h"
#include "gcp/google_api.h"

namespace bikestream::spanner {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxMessageInError = 500;
constexpr DurationMicros kOperationPoll = 100 * kMicrosPerMilli;
constexpr DurationMicros kMaxOperationWait = 10 * 60 * kMicrosPerSecond;

// gRPC's limit on one message, which the emulator's REST gateway applies to an answer (4 MiB).
constexpr std::string_view kAnswerTooLarge = "received message larger than max";

// Calls worth sending again. ABORTED is not: it aborts a transaction, which runs again whole;
// nor an answer too large for one message, which would be as large again.
bool IsRetryableCall(const absl::Status& status) {
  return gcp::IsRetryable(status) && status.code() != absl::StatusCode::kAborted &&
         !gcp::IsCredentialsError(status) &&
         MessageOf(status).find(kAnswerTooLarge) == std::string_view::npos;
}

bool IsSessionGone(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound &&
         MessageOf(status).find("Session not found") != std::string_view::npos;
}

std::string HintFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kPermissionDenied:
      return "grant the account roles/spanner.databaseUser on the database (and "
             "roles/spanner.databaseAdmin for setup)";
    case absl::StatusCode::kUnauthenticated:
      return "check GOOGLE_APPLICATION_CREDENTIALS, or set SPANNER_EMULATOR_HOST for the emulator";
    default:
      return "";
  }
}

// Spanner's error body: Google's {"error": {code, message, status}}, or the emulator's gateway's
// {"code": N, "message": ...} with N a canonical code.
absl::Status FromReply(const http::HttpResponse& response, std::string_view operation) {
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("code") && body["code"].is_number_integer() &&
      body.contains("message") && body["message"].is_string()) {
    const int code = body["code"].get<int>();
    const auto status_code = code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code)
                                                    : gcp::CodeForHttp(response.status);
    const std::string& message = body["message"].get_ref<const std::string&>();
    const std::string hint = message.find(kAnswerTooLarge) != std::string::npos
                                 ? "the answer is more than one response carries: select fewer "
                                   "rows or columns"
                                 : HintFor(status_code);
    return absl::Status(status_code, fmt::format("Spanner {}: {}{}", operation,
                                                 RemoteText(message, kMaxMessageInError),
                                                 hint.empty() ? "" : fmt::format(" ({})", hint)));
  }
  return gcp::ErrorFromReply("Spanner", operation, response, HintFor);
}

json TypeOf(std::string_view code) { return {{"code", code}}; }

json MutationJson(const Mutation& m) {
  if (m.kind == Mutation::Kind::kDelete) {
    return {{"delete", {{"table", m.table}, {"keySet", {{"keys", m.rows}}}}}};
  }
  const char* kind = m.kind == Mutation::Kind::kInsert ? "insert" : "insertOrUpdate";
  return {{kind, {{"table", m.table}, {"columns", m.columns}, {"values", m.rows}}}};
}

void AddParams(const Params& params, json& request) {
  if (params.empty()) return;
  json values = json::object();
  json types = json::object();
  for (const auto& [name, value] : params) {
    values[name] = value.value;
    types[name] = value.type;
  }
  request["params"] = std::move(values);
  request["paramTypes"] = std::move(types);
}

absl::StatusOr<ResultSet> ResultSetOf(const json& reply) {
  ResultSet result;
  const json& fields = reply.value("/metadata/rowType/fields"_json_pointer, json::array());
  for (const json& field : fields) {
    result.columns.push_back(field.value("name", ""));
    result.types.push_back(field.value("/type/code"_json_pointer, ""));
  }
  const json& rows = reply.value("rows", json::array());
  if (!rows.is_array()) return absl::UnavailableError("Spanner: a result's rows are no array");
  for (const json& row : rows) {
    if (!row.is_array()) return absl::UnavailableError("Spanner: a result's row is no array");
    result.rows.emplace_back(row.begin(), row.end());
  }
  if (auto count = Int64Of(reply.value("/stats/rowCountExact"_json_pointer, json("0")));
      count.ok()) {
    result.rows_changed = *count;
  }
  return result;
}

}  // namespace

Value String(std::string_view text) { return {TypeOf("STRING"), json(std::string(text))}; }
Value Int64(std::int64_t number) { return {TypeOf("INT64"), json(std::to_string(number))}; }
Value Float64(double number) { return {TypeOf("FLOAT64"), json(number)}; }
Value Timestamp(TimestampMicros instant) {
  return {TypeOf("TIMESTAMP"), json(FormatRfc3339(instant))};
}
Value Null(std::string_view code) { return {TypeOf(code), json(nullptr)}; }

Value StructArray(const std::vector<StructField>& fields,
                  const std::vector<std::vector<json>>& rows) {
  json struct_fields = json::array();
  for (const StructField& field : fields) {
    struct_fields.push_back({{"name", field.name}, {"type", TypeOf(field.code)}});
  }
  json type = {
      {"code", "ARRAY"},
      {"arrayElementType", {{"code", "STRUCT"}, {"structType", {{"fields", struct_fields}}}}}};
  json values = json::array();
  for (const auto& row : rows) values.push_back(row);
  return {std::move(type), std::move(values)};
}

Value StringArray(const std::vector<std::string>& items) {
  return {{{"code", "ARRAY"}, {"arrayElementType", TypeOf("STRING")}}, json(items)};
}

Value TimestampArray(const std::vector<TimestampMicros>& instants) {
  json values = json::array();
  for (TimestampMicros instant : instants) values.push_back(FormatRfc3339(instant));
  return {{{"code", "ARRAY"}, {"arrayElementType", TypeOf("TIMESTAMP")}}, std::move(values)};
}

absl::StatusOr<TimestampMicros> TimestampOf(const json& value) {
  if (!value.is_string()) return absl::InvalidArgumentError("Spanner: a TIMESTAMP is no text");
  return ParseRfc3339(value.get<std::string>());
}

absl::StatusOr<std::int64_t> Int64Of(const json& value) {
  std::int64_t number = 0;
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_string() && absl::SimpleAtoi(value.get<std::string>(), &number)) return number;
  return absl::InvalidArgumentError("Spanner: an INT64 is no integer");
}

json Transaction::Selector() const {
  return id_.empty() ? json{{"begin", {{"readWrite", json::object()}}}} : json{{"id", id_}};
}

absl::Status Transaction::Began(const json& reply, std::string_view call) {
  if (id_.empty()) id_ = reply.value("/metadata/transaction/id"_json_pointer, "");
  if (id_.empty())
    return absl::UnavailableError(fmt::format("Spanner {}: no transaction began", call));
  return absl::OkStatus();
}

absl::StatusOr<ResultSet> Transaction::ExecuteSql(const std::string& sql, const Params& params) {
  json request = {{"sql", sql}, {"seqno", std::to_string(++seqno_)}, {"transaction", Selector()}};
  AddParams(params, request);
  auto reply = client_.Call("POST", session_ + ":executeSql", request, "executeSql");
  if (!reply.ok()) return reply.status();
  if (absl::Status began = Began(*reply, "executeSql"); !began.ok()) return began;
  return ResultSetOf(*reply);
}

absl::StatusOr<ResultSet> Transaction::Read(const std::string& table, const std::string& index,
                                            const std::vector<std::string>& columns,
                                            const std::vector<std::vector<json>>& keys) {
  json request = {{"table", table},
                  {"columns", columns},
                  {"keySet", {{"keys", keys}}},
                  {"transaction", Selector()}};
  if (!index.empty()) request["index"] = index;
  auto reply = client_.Call("POST", session_ + ":read", request, "read");
  if (!reply.ok()) return reply.status();
  if (absl::Status began = Began(*reply, "read"); !began.ok()) return began;
  return ResultSetOf(*reply);
}

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock()),
      http_({.timeout = options_.timeout, .max_reply_bytes = limits::kApiReply}) {
  if (!options_.retry.on_retry) {
    options_.retry.on_retry = ReportRetries(
        fmt::format("Spanner at {}", RedactUrl(options_.endpoint)), options_.retry.max_duration);
  }
}

Client::~Client() {
  std::vector<std::string> sessions;
  {
    MutexLock lock(&mu_);
    sessions.swap(idle_sessions_);
  }
  // Best effort, and never out of a destructor: a session left behind expires in an hour.
  try {
    for (const std::string& session : sessions) {
      (void)CallOnce("DELETE", session, json(), "deleteSession");
    }
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): nothing left to tell.
  }
}

std::string Client::DatabasePath() const {
  return fmt::format("projects/{}/instances/{}/databases/{}", options_.project, options_.instance,
                     options_.database);
}

absl::StatusOr<json> Client::CallOnce(const std::string& method, const std::string& path,
                                      const json& body, std::string_view operation) {
  return gcp::SendJson(http_, options_.credentials.get(), method,
                       fmt::format("{}/v1/{}", options_.endpoint, path),
                       body.is_null() ? "" : body.dump(),
                       {.service = "Spanner",
                        .what = operation,
                        .error_from_reply = [operation](const http::HttpResponse& response) {
                          return FromReply(response, operation);
                        }});
}

absl::StatusOr<json> Client::Call(const std::string& method, const std::string& path,
                                  const json& body, std::string_view operation) {
  return Retry(clock_, options_.retry, IsRetryableCall,
               [&] { return CallOnce(method, path, body, operation); });
}

absl::Status Client::WaitForOperation(json operation, std::string_view what) {
  const TimestampMicros deadline = clock_.Now() + kMaxOperationWait;
  while (!operation.value("done", false)) {
    if (clock_.Now() > deadline) {
      return absl::DeadlineExceededError(
          fmt::format("Spanner {}: not done after 10 minutes", what));
    }
    clock_.SleepFor(kOperationPoll);
    auto polled = Call("GET", operation.value("name", ""), json(), what);
    if (!polled.ok()) return polled.status();
    operation = std::move(*polled);
  }
  if (operation.contains("error")) {
    const json& error = operation["error"];
    const int code = error.value("code", 2);
    return absl::Status(
        code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown,
        fmt::format("Spanner {}: {}", what,
                    RemoteText(error.value("message", ""), kMaxMessageInError)));
  }
  return absl::OkStatus();
}

// Whether `name` is among the resources a list call returns under `field`, page by page. By
// listing, not by a get: the emulator's gateway answers a get of what is missing with an
// INTERNAL "failed to marshal error message", not NOT_FOUND.
absl::StatusOr<bool> Client::Listed(const std::string& path, const char* field,
                                    const std::string& name) {
  std::string page_token;
  do {
    auto reply = Call("GET", page_token.empty() ? path : path + "?pageToken=" + page_token, json(),
                      fmt::format("list {}", field));
    if (!reply.ok()) return reply.status();
    for (const json& item : reply->value(field, json::array())) {
      if (item.is_object() && item.value("name", "") == name) return true;
    }
    page_token = reply->value("nextPageToken", "");
  } while (!page_token.empty());
  return false;
}

absl::StatusOr<std::optional<std::vector<std::string>>> Client::DatabaseDdl() {
  auto exists =
      Listed(fmt::format("projects/{}/instances/{}/databases", options_.project, options_.instance),
             "databases", DatabasePath());
  if (!exists.ok()) return exists.status();
  if (!*exists) return std::nullopt;
  auto reply = Call("GET", DatabasePath() + "/ddl", json(), "getDatabaseDdl");
  if (!reply.ok()) return reply.status();
  std::vector<std::string> statements;
  for (const json& statement : reply->value("statements", json::array())) {
    if (statement.is_string()) statements.push_back(statement.get<std::string>());
  }
  return statements;
}

absl::Status Client::CreateDatabase(const std::vector<std::string>& ddl) {
  auto operation =
      Call("POST",
           fmt::format("projects/{}/instances/{}/databases", options_.project, options_.instance),
           {{"createStatement", fmt::format("CREATE DATABASE `{}`", options_.database)},
            {"extraStatements", ddl}},
           "createDatabase");
  if (!operation.ok()) return operation.status();
  return WaitForOperation(std::move(*operation), "createDatabase");
}

absl::Status Client::UpdateDdl(const std::vector<std::string>& ddl) {
  auto operation = Call("PATCH", DatabasePath() + "/ddl", {{"statements", ddl}}, "updateDdl");
  if (!operation.ok()) return operation.status();
  return WaitForOperation(std::move(*operation), "updateDdl");
}

absl::StatusOr<bool> Client::InstanceExists() {
  return Listed(fmt::format("projects/{}/instances", options_.project), "instances",
                fmt::format("projects/{}/instances/{}", options_.project, options_.instance));
}

absl::Status Client::CreateEmulatorInstance() {
  auto operation = Call(
      "POST", fmt::format("projects/{}/instances", options_.project),
      {{"instanceId", options_.instance},
       {"instance",
        {{"config", fmt::format("projects/{}/instanceConfigs/emulator-config", options_.project)},
         {"displayName", options_.instance},
         {"nodeCount", 1}}}},
      "createInstance");
  if (!operation.ok()) return operation.status();
  return WaitForOperation(std::move(*operation), "createInstance");
}

absl::StatusOr<std::string> Client::TakeSession() {
  {
    MutexLock lock(&mu_);
    if (!idle_sessions_.empty()) {
      std::string session = std::move(idle_sessions_.back());
      idle_sessions_.pop_back();
      return session;
    }
  }
  auto reply = Call("POST", DatabasePath() + "/sessions", json::object(), "createSession");
  if (!reply.ok()) {
    // The emulator answers a missing database with INTERNAL: ask which it is.
    auto exists = Listed(
        fmt::format("projects/{}/instances/{}/databases", options_.project, options_.instance),
        "databases", DatabasePath());
    if (exists.ok() && !*exists) {
      return absl::NotFoundError(fmt::format("Spanner database {} does not exist", DatabasePath()));
    }
    return reply.status();
  }
  std::string name = reply->value("name", "");
  if (name.empty()) return absl::UnavailableError("Spanner createSession: no session name");
  return name;
}

void Client::GiveBack(std::string session) {
  MutexLock lock(&mu_);
  idle_sessions_.push_back(std::move(session));
}

absl::StatusOr<ResultSet> Client::Query(const std::string& sql, const Params& params) {
  json request = {{"sql", sql},
                  {"transaction", {{"singleUse", {{"readOnly", {{"strong", true}}}}}}}};
  AddParams(params, request);
  for (int attempt = 0;; ++attempt) {
    auto session = TakeSession();
    if (!session.ok()) return session.status();
    auto reply = Call("POST", *session + ":executeSql", request, "executeSql");
    if (!reply.ok() && IsSessionGone(reply.status()) && attempt == 0) continue;
    if (!IsSessionGone(reply.status())) GiveBack(std::move(*session));
    if (!reply.ok()) return reply.status();
    return ResultSetOf(*reply);
  }
}

absl::StatusOr<ResultSet> Client::Read(const std::string& table,
                                       const std::vector<std::string>& columns, const json& key_set,
                                       std::int64_t limit) {
  json request = {{"table", table},
                  {"columns", columns},
                  {"keySet", key_set},
                  {"transaction", {{"singleUse", {{"readOnly", {{"strong", true}}}}}}}};
  if (limit > 0) request["limit"] = std::to_string(limit);
  auto session = TakeSession();
  if (!session.ok()) return session.status();
  auto reply = Call("POST", *session + ":read", request, "read");
  GiveBack(std::move(*session));
  if (!reply.ok()) return reply.status();
  return ResultSetOf(*reply);
}

absl::StatusOr<TimestampMicros> Client::RunOnce(
    const std::function<absl::Status(Transaction&)>& body, const std::string& session) {
  Transaction transaction(*this, session);
  if (absl::Status status = body(transaction); !status.ok()) {
    if (!transaction.id_.empty()) {
      (void)CallOnce("POST", session + ":rollback", {{"transactionId", transaction.id_}},
                     "rollback");
    }
    return status;
  }
  json request = {{"mutations", json::array()}};
  for (const Mutation& m : transaction.mutations_) request["mutations"].push_back(MutationJson(m));
  if (transaction.id_.empty()) {
    request["singleUseTransaction"] = {{"readWrite", json::object()}};
  } else {
    request["transactionId"] = transaction.id_;
  }
  // Sent once: a commit sent again after its answer was lost could apply twice.
  auto reply = CallOnce("POST", session + ":commit", request, "commit");
  if (!reply.ok()) return reply.status();
  return TimestampOf(reply->value("commitTimestamp", json()));
}

absl::StatusOr<TimestampMicros> Client::RunTransaction(
    const std::function<absl::Status(Transaction&)>& body) {
  Backoff backoff(options_.aborted);
  const TimestampMicros start = clock_.Now();
  for (;;) {
    auto session = TakeSession();
    if (!session.ok()) return session.status();
    auto committed = RunOnce(body, *session);
    if (!IsSessionGone(committed.status())) GiveBack(std::move(*session));
    const absl::StatusCode code = committed.status().code();
    if (code != absl::StatusCode::kAborted && !IsSessionGone(committed.status())) return committed;
    const DurationMicros delay = backoff.NextDelay();
    if (clock_.Now() - start + delay > options_.aborted.max_duration) {
      return absl::AbortedError(fmt::format(
          "Spanner: the transaction was aborted again and again for {:g} s, last: {}",
          double(options_.aborted.max_duration) / kMicrosPerSecond, MessageOf(committed.status())));
    }
    clock_.SleepFor(delay);
  }
}

}  // namespace bikestream::spanner

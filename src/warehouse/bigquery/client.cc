#include "warehouse/bigquery/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "common/limits.h"
#include "common/redact.h"
#include "common/status.h"
#include "event/timestamp.h"
#include "gcp/google_api.h"

namespace bikestream::bigquery {
namespace {

using json = nlohmann::json;

constexpr char kReasonPayload[] = "type.bikestream.dev/bigquery-reason";
constexpr std::size_t kMaxJobIdBytes = 1000;  // Google allows 1,024; leaves room for _rN.
constexpr int kMaxJobRuns = 8;
constexpr std::uint32_t kLongPollMillis = 10'000;
constexpr DurationMicros kFirstPoll = 50 * kMicrosPerMilli;
constexpr DurationMicros kLongestPoll = 2 * kMicrosPerSecond;
// BigQuery refuses requests over 10 MB: a job's stays below, with room to spare.
constexpr std::size_t kMaxRequestBytes = 9 * 1024 * 1024;
// How much of BigQuery's message an error quotes (a SQL error names its line and column).
constexpr std::size_t kMaxMessageInError = 1000;

// Google's guidance (error-messages, and its Python client's retry.py).
constexpr std::array kRetryableReasons = {"rateLimitExceeded", "backendError", "internalError",
                                          "badGateway"};
// A job that failed for these may be run again, under a new id.
constexpr std::array kRerunReasons = {"jobBackendError", "jobInternalError", "jobRateLimitExceeded",
                                      "backendError",    "internalError",    "rateLimitExceeded"};

// A transaction BigQuery cancelled because another one changed the same table meanwhile
// (invalidQuery, "Transaction is aborted due to concurrent update against table ..." or "Could
// not serialize access to table ... due to concurrent update"): nothing of it applied.
bool LostToAConcurrentUpdate(const absl::Status& status) {
  return ReasonOf(status) == "invalidQuery" &&
         MessageOf(status).find("due to concurrent update") != std::string_view::npos;
}

template <std::size_t N>
bool OneOf(const std::string& reason, const std::array<const char*, N>& reasons) {
  return std::any_of(reasons.begin(), reasons.end(), [&](const char* r) { return reason == r; });
}

absl::Status WithReason(absl::Status status, const std::string& reason) {
  if (!reason.empty()) status.SetPayload(kReasonPayload, absl::Cord(reason));
  return status;
}

// A request refused before it was sent, with the reason the warehouse reads.
absl::Status TooLarge(std::string_view operation, std::size_t bytes) {
  return WithReason(absl::OutOfRangeError(
                        fmt::format("BigQuery {}: a request of {} bytes is over BigQuery's limit "
                                    "of 10 MB",
                                    operation, bytes)),
                    kRequestTooLarge);
}

bool IsRetryableCall(const absl::Status& status) {
  const std::string reason = ReasonOf(status);
  if (!reason.empty()) return OneOf(reason, kRetryableReasons);
  return gcp::IsRetryable(status) && !gcp::IsCredentialsError(status);
}

absl::StatusCode CodeForReason(const std::string& reason, absl::StatusCode by_http) {
  if (OneOf(reason, kRetryableReasons)) return absl::StatusCode::kUnavailable;
  if (reason == "quotaExceeded") return absl::StatusCode::kResourceExhausted;
  if (reason == "accessDenied") return absl::StatusCode::kPermissionDenied;
  if (reason == "notFound") return absl::StatusCode::kNotFound;
  if (reason == "duplicate") return absl::StatusCode::kAlreadyExists;
  if (reason == "invalid" || reason == "invalidQuery") return absl::StatusCode::kInvalidArgument;
  return by_http;
}

std::string HintFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kPermissionDenied:
      return "grant the account roles/bigquery.dataEditor on the dataset and "
             "roles/bigquery.jobUser on the "
             "project";
    case absl::StatusCode::kNotFound:
      return "check the project, the dataset and its location; `bikestream setup` creates the "
             "dataset and "
             "tables";
    case absl::StatusCode::kResourceExhausted:
      return "a BigQuery quota is used up: see the message, and the project's quotas page";
    default:
      return "";
  }
}

// An ErrorProto (a job's errorResult, or the first of a reply's errors) as a status. Its
// message may quote what it was sent: quoted redacted.
absl::Status FromErrorProto(const json& error, std::string_view what, absl::StatusCode by_http) {
  const std::string reason = TextOf(error, "reason");
  const std::string message = RemoteText(TextOf(error, "message"), kMaxMessageInError);
  const absl::StatusCode code = CodeForReason(reason, by_http);
  const std::string hint = HintFor(code);
  return WithReason(absl::Status(code, fmt::format("BigQuery {}: {}{}{}", what,
                                                   reason.empty() ? "" : reason + ": ", message,
                                                   hint.empty() ? "" : fmt::format(" ({})", hint))),
                    reason);
}

absl::Status FromReply(const http::HttpResponse& response, std::string_view what) {
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& error = body["error"];
    const json& errors = MemberOf(error, "errors");
    json first =
        errors.is_array() && !errors.empty() && errors[0].is_object() ? errors[0] : json::object();
    if (!first.contains("message")) first["message"] = MemberOf(error, "message");
    return FromErrorProto(first, what, gcp::CodeForHttp(response.status));
  }
  // Not BigQuery's body (a proxy's 502, say): the HTTP status decides.
  return gcp::ErrorFromReply("BigQuery", what, response, HintFor);
}

// An int64 field (JSON text, as BigQuery sends them); 0 when missing or not a number.
std::int64_t Int64Field(const json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return 0;
  const json& value = object[name];
  if (value.is_number_integer()) return value.get<std::int64_t>();
  std::int64_t number = 0;
  return value.is_string() && absl::SimpleAtoi(value.get<std::string>(), &number) ? number : 0;
}

std::string CellText(const json& cell) {
  const json& v = cell.is_object() && cell.contains("v") ? cell["v"] : json();
  if (v.is_string()) return v.get<std::string>();
  return v.dump();  // A REPEATED or RECORD value, which the warehouse never selects.
}

void AppendRows(const json& page, Rows* rows) {
  if (const json& fields = MemberOf(MemberOf(page, "schema"), "fields");
      rows->fields.empty() && fields.is_array()) {
    for (const json& field : fields)
      rows->fields.push_back({TextOf(field, "name"), TextOf(field, "type")});
  }
  if (!page.contains("rows") || !page["rows"].is_array()) return;
  for (const json& row : page["rows"]) {
    std::vector<std::optional<std::string>> cells;
    if (row.contains("f") && row["f"].is_array()) {
      for (const json& cell : row["f"]) {
        if (cell.is_object() && cell.contains("v") && cell["v"].is_null()) {
          cells.emplace_back(std::nullopt);
        } else {
          cells.emplace_back(CellText(cell));
        }
      }
    }
    rows->rows.push_back(std::move(cells));
  }
}

// A UUID-shaped token (BigQuery's requestId: at most 36 characters).
std::string RequestId() {
  std::random_device random;
  const std::uint32_t a = random(), b = random(), c = random(), d = random();
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}", a, b >> 16, b & 0xFFFF, c >> 16,
                     c & 0xFFFF, d);
}

bool IsValidJobId(const std::string& id) {
  return !id.empty() && id.size() <= kMaxJobIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

json TypeOf(std::string_view type) { return json{{"type", std::string(type)}}; }

}  // namespace

std::string ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayload);
  return payload ? std::string(*payload) : "";
}

json ScalarParameter(std::string_view name, std::string_view type, std::string value) {
  return json{{"name", std::string(name)},
              {"parameterType", TypeOf(type)},
              {"parameterValue", {{"value", std::move(value)}}}};
}

json ArrayParameter(std::string_view name, std::string_view type,
                    const std::vector<std::string>& values) {
  json items = json::array();
  for (const std::string& value : values) items.push_back({{"value", value}});
  return json{{"name", std::string(name)},
              {"parameterType", {{"type", "ARRAY"}, {"arrayType", TypeOf(type)}}},
              {"parameterValue", {{"arrayValues", std::move(items)}}}};
}

json StructArrayParameter(std::string_view name, const std::vector<Field>& fields,
                          const std::vector<std::vector<std::optional<std::string>>>& rows) {
  json struct_types = json::array();
  for (const Field& field : fields)
    struct_types.push_back({{"name", field.name}, {"type", TypeOf(field.type)}});
  json items = json::array();
  for (const auto& row : rows) {
    json values = json::object();
    for (std::size_t i = 0; i < fields.size() && i < row.size(); ++i) {
      // A NULL member is a value without `value` (QueryParameterValue has every field optional).
      values[fields[i].name] = row[i] ? json{{"value", *row[i]}} : json::object();
    }
    items.push_back({{"structValues", std::move(values)}});
  }
  return json{
      {"name", std::string(name)},
      {"parameterType",
       {{"type", "ARRAY"}, {"arrayType", {{"type", "STRUCT"}, {"structTypes", struct_types}}}}},
      {"parameterValue", {{"arrayValues", std::move(items)}}}};
}

const json& MemberOf(const json& object, const char* name) {
  static const json* const kNull = new json();
  if (!object.is_object()) return *kNull;
  const auto found = object.find(name);
  return found == object.end() ? *kNull : *found;
}

std::string TextOf(const json& object, const char* name) {
  const json& member = MemberOf(object, name);
  return member.is_string() ? member.get<std::string>() : "";
}

std::string UniqueJobId(std::string_view prefix) {
  // 128 bits from the system's source (one seed of a generator would be 32).
  std::random_device random;
  return fmt::format("{}_{:08x}{:08x}{:08x}{:08x}", prefix, random(), random(), random(), random());
}

std::string TimestampText(TimestampMicros micros) {
  std::string text = FormatRfc3339(micros);  // YYYY-MM-DDTHH:MM:SS[.ffffff]Z
  text[10] = ' ';
  text.back() = '+';
  return text + "00";
}

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock()),
      http_({.timeout = options_.timeout, .max_reply_bytes = limits::kApiReply}) {
  // An endpoint that does not answer is retried for minutes: whoever waits hears why.
  if (!options_.retry.on_retry) {
    options_.retry.on_retry = ReportRetries(
        fmt::format("BigQuery at {}", RedactUrl(options_.endpoint)), options_.retry.max_duration);
  }
}

// The fields a query job's configuration and a jobs.query request share.
json Client::QueryFields(const std::string& sql, const json& parameters) const {
  json fields = {{"query", sql},
                 {"useLegacySql", false},
                 {"parameterMode", "NAMED"},
                 {"queryParameters", parameters}};
  if (!options_.default_dataset.empty()) {
    fields["defaultDataset"] = {{"projectId", options_.project},
                                {"datasetId", options_.default_dataset}};
  }
  return fields;
}

absl::StatusOr<json> Client::CallOnce(const std::string& method, const std::string& path,
                                      const std::string& body, std::string_view operation,
                                      std::string_view upload_type) {
  return gcp::SendJson(
      http_, options_.credentials.get(), method,
      fmt::format("{}/{}bigquery/v2/{}", options_.endpoint, upload_type.empty() ? "" : "upload/",
                  path),
      body,
      {.service = "BigQuery",
       .what = operation,
       .error_from_reply =
           [operation](const http::HttpResponse& response) {
             return FromReply(response, operation);
           },
       .content_type = upload_type.empty() ? std::string_view("application/json") : upload_type});
}

absl::StatusOr<json> Client::Call(const std::string& method, const std::string& path,
                                  const std::string& body, std::string_view operation,
                                  std::string_view upload_type) {
  return Retry(clock_, options_.retry, IsRetryableCall,
               [&] { return CallOnce(method, path, body, operation, upload_type); });
}

absl::StatusOr<json> Client::RunJob(const std::string& job_id, const json& configuration,
                                    const std::string& media,
                                    const std::function<bool(const json&)>& is_ours) {
  if (!IsValidJobId(job_id)) {
    return absl::InvalidArgumentError(
        fmt::format("BigQuery job id '{}': use letters, digits, '_' and '-'", job_id));
  }
  absl::Status last;
  Backoff backoff(
      options_.retry);  // Jittered, so that transactions that collided do not meet again.
  for (int run = 0; run < kMaxJobRuns; ++run) {
    const std::string id = run == 0 ? job_id : fmt::format("{}_r{}", job_id, run);
    const json job = {
        {"jobReference",
         {{"projectId", options_.project}, {"jobId", id}, {"location", options_.location}}},
        {"configuration", configuration}};
    std::string body = job.dump();
    std::string upload_type;
    if (media.empty()) {
      if (body.size() > kMaxRequestBytes) return TooLarge("jobs.insert " + id, body.size());
    } else {
      // The job's resource, then the data: one multipart/related upload (RFC 2387).
      const std::string boundary = UniqueJobId("bikestream_part");
      body = fmt::format(
          "--{0}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{1}\r\n--{0}\r\n"
          "Content-Type: application/octet-stream\r\n\r\n{2}\r\n--{0}--\r\n",
          boundary, body, media);
      upload_type = "multipart/related; boundary=" + boundary;
    }
    auto inserted = Call("POST",
                         fmt::format("projects/{}/jobs{}", options_.project,
                                     media.empty() ? "" : "?uploadType=multipart"),
                         body, "jobs.insert " + id, upload_type);
    // An earlier try of this insert reached BigQuery: its job is the one to wait for.
    const bool existed =
        !inserted.ok() && inserted.status().code() == absl::StatusCode::kAlreadyExists;
    if (!inserted.ok() && !existed) return inserted.status();
    auto done = WaitForJob(id);
    if (!done.ok()) return done.status();
    // Unless the id was someone else's: then the answer would be theirs.
    if (existed && !is_ours(*done)) {
      return absl::InternalError(
          fmt::format("BigQuery job {} exists and runs another statement: job ids must be "
                      "unique, and this one was not",
                      id));
    }
    const json& status = MemberOf(*done, "status");
    if (status.contains("errorResult")) {
      last = FromErrorProto(status["errorResult"], "job " + id, absl::StatusCode::kInternal);
      if (!OneOf(ReasonOf(last), kRerunReasons) && !LostToAConcurrentUpdate(last)) return last;
      if (run + 1 < kMaxJobRuns) clock_.SleepFor(backoff.NextDelay());
      continue;
    }
    return done;
  }
  return last;
}

absl::StatusOr<Rows> Client::RunQueryJob(const std::string& job_id, const std::string& sql,
                                         const json& parameters) {
  auto done = RunJob(job_id, {{"query", QueryFields(sql, parameters)}}, "", [&](const json& job) {
    return TextOf(MemberOf(MemberOf(job, "configuration"), "query"), "query") == sql;
  });
  if (!done.ok()) return done.status();
  Rows rows;
  const json& statistics = MemberOf(*done, "statistics");
  rows.bytes_processed = Int64Field(statistics, "totalBytesProcessed");
  rows.bytes_billed = Int64Field(MemberOf(statistics, "query"), "totalBytesBilled");
  rows.dml_affected_rows = Int64Field(MemberOf(statistics, "query"), "numDmlAffectedRows");
  const std::string id = TextOf(MemberOf(*done, "jobReference"), "jobId");
  if (absl::Status read = ReadPages(id, std::nullopt, &rows); !read.ok()) return read;
  return rows;
}

FinishedJob Client::Finished(const json& job) {
  FinishedJob finished{
      .job_id = TextOf(MemberOf(job, "jobReference"), "jobId"),
      .query = TextOf(MemberOf(MemberOf(job, "configuration"), "query"), "query"),
      .bytes_processed = Int64Field(MemberOf(job, "statistics"), "totalBytesProcessed"),
      .bytes_billed =
          Int64Field(MemberOf(MemberOf(job, "statistics"), "query"), "totalBytesBilled")};
  const json& statistics = MemberOf(job, "statistics");
  finished.duration = std::max<DurationMicros>(
      0,
      (Int64Field(statistics, "endTime") - Int64Field(statistics, "startTime")) * kMicrosPerMilli);
  const json& status = MemberOf(job, "status");
  if (status.contains("errorResult")) {
    finished.outcome = FromErrorProto(status["errorResult"], "job " + finished.job_id,
                                      absl::StatusCode::kInternal);
  }
  return finished;
}

absl::StatusOr<FinishedJob> Client::RunQueryJobOnce(const std::string& job_id,
                                                    const std::string& sql,
                                                    const json& parameters) {
  if (!IsValidJobId(job_id)) {
    return absl::InvalidArgumentError(
        fmt::format("BigQuery job id '{}': use letters, digits, '_' and '-'", job_id));
  }
  const json job = {
      {"jobReference",
       {{"projectId", options_.project}, {"jobId", job_id}, {"location", options_.location}}},
      {"configuration", {{"query", QueryFields(sql, parameters)}}}};
  const std::string body = job.dump();
  if (body.size() > kMaxRequestBytes) return TooLarge("jobs.insert " + job_id, body.size());
  auto inserted = Call("POST", fmt::format("projects/{}/jobs", options_.project), body,
                       "jobs.insert " + job_id);
  // Taken already, by an earlier try or by another client: that job is the one.
  if (!inserted.ok() && inserted.status().code() != absl::StatusCode::kAlreadyExists)
    return inserted.status();
  auto done = WaitForJob(job_id);
  if (!done.ok()) return done.status();
  return Finished(*done);
}

absl::StatusOr<std::optional<FinishedJob>> Client::FindJob(const std::string& job_id) {
  auto done = WaitForJob(job_id);
  if (done.ok()) return std::optional<FinishedJob>(Finished(*done));
  if (done.status().code() == absl::StatusCode::kNotFound) return std::optional<FinishedJob>();
  return done.status();
}

absl::StatusOr<Rows> Client::ReadResult(const std::string& job_id) {
  Rows rows;
  if (absl::Status read = ReadPages(job_id, std::nullopt, &rows); !read.ok()) return read;
  return rows;
}

absl::Status Client::LoadRows(const std::string& job_id, const std::string& table,
                              const std::vector<Field>& schema, const std::string& ndjson) {
  json fields = json::array();
  for (const Field& field : schema) {
    fields.push_back({{"name", field.name}, {"type", field.type}, {"mode", "NULLABLE"}});
  }
  const json destination = {
      {"projectId", options_.project}, {"datasetId", options_.default_dataset}, {"tableId", table}};
  const json load = {{"destinationTable", destination},
                     {"schema", {{"fields", fields}}},
                     {"sourceFormat", "NEWLINE_DELIMITED_JSON"},
                     {"createDisposition", "CREATE_IF_NEEDED"},
                     {"writeDisposition", "WRITE_APPEND"}};
  return RunJob(job_id, {{"load", load}}, ndjson,
                [&](const json& job) {
                  return MemberOf(MemberOf(MemberOf(job, "configuration"), "load"),
                                  "destinationTable") == destination;
                })
      .status();
}

absl::StatusOr<json> Client::WaitForJob(const std::string& job_id) {
  DurationMicros pause = kFirstPoll;
  while (true) {
    // Not the parameters, which may be megabytes: the state, the figures and the statement.
    auto job = Call(
        "GET",
        fmt::format("projects/{}/jobs/{}?{}", options_.project, job_id,
                    http::FormEncode({{"location", options_.location},
                                      {"fields",
                                       "jobReference,status,statistics,configuration.query.query,"
                                       "configuration.load.destinationTable"}})),
        "", "jobs.get " + job_id);
    if (!job.ok()) return job.status();
    if (TextOf(MemberOf(*job, "status"), "state") == "DONE") return job;
    clock_.SleepFor(pause);
    pause = std::min(pause * 2, kLongestPoll);
  }
}

// Appends the rows of a finished job's result, or hands each page to `on_page`: `first_page`
// when the caller has it already, then the pages after it.
absl::Status Client::ReadPages(const std::string& job_id, std::optional<json> first_page,
                               Rows* rows, const PageVisitor& on_page) {
  const auto take = [&](const json& page) {
    AppendRows(page, rows);
    if (!on_page) return;
    on_page(*rows);
    rows->rows.clear();
  };
  std::string token;
  if (first_page) {
    take(*first_page);
    token = TextOf(*first_page, "pageToken");
    if (token.empty()) return absl::OkStatus();
  }
  while (true) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"location", options_.location},
        {"maxResults", std::to_string(options_.page_rows)},
        {"timeoutMs", std::to_string(kLongPollMillis)},
        {"formatOptions.useInt64Timestamp", "true"}};
    if (!token.empty()) query.emplace_back("pageToken", token);
    auto page = Call(
        "GET",
        fmt::format("projects/{}/queries/{}?{}", options_.project, job_id, http::FormEncode(query)),
        "", "jobs.getQueryResults " + job_id);
    if (!page.ok()) return page.status();
    if (MemberOf(*page, "jobComplete") != true) continue;  // The long poll ran out first.
    take(*page);
    token = TextOf(*page, "pageToken");
    if (token.empty()) return absl::OkStatus();
  }
}

absl::StatusOr<Rows> Client::Query(const std::string& sql, const json& parameters,
                                   const PageVisitor& on_page) {
  json request = QueryFields(sql, parameters);
  request["location"] = options_.location;
  request["maxResults"] = options_.page_rows;
  request["timeoutMs"] = kLongPollMillis;
  request["formatOptions"] = {{"useInt64Timestamp", true}};
  // The same requestId on every retry: BigQuery runs a request once per id (for 15 minutes).
  request["requestId"] = RequestId();
  const std::string body = request.dump();
  if (body.size() > kMaxRequestBytes) return TooLarge("jobs.query", body.size());
  auto reply =
      Call("POST", fmt::format("projects/{}/queries", options_.project), body, "jobs.query");
  if (!reply.ok()) return reply.status();
  const std::string job_id = TextOf(MemberOf(*reply, "jobReference"), "jobId");
  Rows rows;
  rows.bytes_processed = Int64Field(*reply, "totalBytesProcessed");
  rows.bytes_billed = Int64Field(*reply, "totalBytesBilled");
  rows.dml_affected_rows = Int64Field(*reply, "numDmlAffectedRows");
  std::optional<json> first_page;
  if (MemberOf(*reply, "jobComplete") == true) first_page = std::move(*reply);
  if (absl::Status read = ReadPages(job_id, std::move(first_page), &rows, on_page); !read.ok())
    return read;
  return rows;
}

absl::StatusOr<std::optional<json>> Client::GetIfExists(const std::string& path,
                                                        std::string_view operation) {
  auto reply = Call("GET", path, "", operation);
  if (reply.ok()) return std::optional<json>(std::move(*reply));
  if (reply.status().code() == absl::StatusCode::kNotFound) return std::optional<json>();
  return reply.status();
}

absl::StatusOr<std::optional<json>> Client::GetDataset(const std::string& dataset) {
  return GetIfExists(fmt::format("projects/{}/datasets/{}", options_.project, dataset),
                     "datasets.get " + dataset);
}

absl::StatusOr<std::optional<json>> Client::GetTable(const std::string& dataset,
                                                     const std::string& table) {
  return GetIfExists(
      fmt::format("projects/{}/datasets/{}/tables/{}", options_.project, dataset, table),
      fmt::format("tables.get {}.{}", dataset, table));
}

absl::StatusOr<std::vector<ListedTable>> Client::ListTables(std::string_view prefix) {
  std::vector<ListedTable> tables;
  std::string token;
  do {
    std::vector<std::pair<std::string, std::string>> query = {{"maxResults", "1000"}};
    if (!token.empty()) query.emplace_back("pageToken", token);
    auto page = Call("GET",
                     fmt::format("projects/{}/datasets/{}/tables?{}", options_.project,
                                 options_.default_dataset, http::FormEncode(query)),
                     "", "tables.list " + options_.default_dataset);
    if (!page.ok()) return page.status();
    const json& listed = MemberOf(*page, "tables");
    if (listed.is_array()) {
      for (const json& table : listed) {
        std::string id = TextOf(MemberOf(table, "tableReference"), "tableId");
        if (!id.starts_with(prefix)) continue;
        tables.push_back({std::move(id), Int64Field(table, "creationTime") * kMicrosPerMilli});
      }
    }
    token = TextOf(*page, "nextPageToken");
  } while (!token.empty());
  return tables;
}

absl::Status Client::DeleteTable(const std::string& table) {
  auto deleted = Call("DELETE",
                      fmt::format("projects/{}/datasets/{}/tables/{}", options_.project,
                                  options_.default_dataset, table),
                      "", fmt::format("tables.delete {}.{}", options_.default_dataset, table));
  if (!deleted.ok() && deleted.status().code() != absl::StatusCode::kNotFound) {
    return deleted.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<Rows> Client::ReadTable(const std::string& table,
                                       const std::vector<std::string>& fields) {
  Rows rows;
  std::string selected;
  for (const std::string& field : fields) {
    rows.fields.push_back({field, ""});
    selected += (selected.empty() ? "" : ",") + field;
  }
  std::string token;
  do {
    std::vector<std::pair<std::string, std::string>> query = {
        {"selectedFields", selected},
        {"maxResults", std::to_string(options_.page_rows)},
        {"formatOptions.useInt64Timestamp", "true"}};
    if (!token.empty()) query.emplace_back("pageToken", token);
    auto page = Call("GET",
                     fmt::format("projects/{}/datasets/{}/tables/{}/data?{}", options_.project,
                                 options_.default_dataset, table, http::FormEncode(query)),
                     "", fmt::format("tabledata.list {}.{}", options_.default_dataset, table));
    if (!page.ok()) return page.status();
    AppendRows(*page, &rows);
    token = TextOf(*page, "pageToken");
  } while (!token.empty());
  return rows;
}

absl::Status Client::CreateDataset(const json& dataset) {
  return Call("POST", fmt::format("projects/{}/datasets", options_.project), dataset.dump(),
              "datasets.insert")
      .status();
}

absl::Status Client::CreateTable(const std::string& dataset, const json& table) {
  return Call("POST", fmt::format("projects/{}/datasets/{}/tables", options_.project, dataset),
              table.dump(), "tables.insert")
      .status();
}

}  // namespace bikestream::bigquery

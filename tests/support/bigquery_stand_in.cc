#include "support/bigquery_stand_in.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "absl/strings/str_split.h"

namespace bikestream::testing_support {
namespace {

using json = nlohmann::json;

const std::regex kRequired(R"(^\[?Required)");
const std::regex kInt64(R"(^-?[0-9]+$)");
const std::regex kUint(R"(^[0-9]+$)");

const char* StatusName(int http_status) {
  switch (http_status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ALREADY_EXISTS";
    case 429:
      return "RESOURCE_EXHAUSTED";
    default:
      return http_status >= 500 ? "UNAVAILABLE" : "UNKNOWN";
  }
}

json Int64(std::int64_t value) { return std::to_string(value); }

// A table's creationTime: milliseconds since the epoch, as BigQuery's, and never the same twice
// (the warehouse tells a dataset made again from the one before by its writer table's).
json CreationTime() {
  static std::atomic<std::int64_t> last{0};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::int64_t previous = last.load();
  std::int64_t created = std::max(now, previous + 1);
  while (!last.compare_exchange_weak(previous, created)) created = std::max(now, previous + 1);
  return Int64(created);
}

}  // namespace

json GoogleError(int http_status, const std::string& reason, const std::string& message) {
  return {
      {"error",
       {{"code", http_status},
        {"message", message},
        {"errors", json::array({{{"message", message}, {"domain", "global"}, {"reason", reason}}})},
        {"status", StatusName(http_status)}}}};
}

DiscoverySchema::DiscoverySchema(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  document_ = json::parse(in);
}

std::string DiscoverySchema::Check(const json& value, const std::string& schema,
                                   bool is_request) const {
  return CheckObject(value, schema, schema, is_request);
}

std::string DiscoverySchema::CheckObject(const json& value, const std::string& schema,
                                         const std::string& where, bool is_request) const {
  const json& definition = document_["schemas"][schema];
  if (!value.is_object()) return where + ": not an object";
  const json& properties =
      definition.contains("properties") ? definition["properties"] : json::object();
  for (const auto& [name, member] : value.items()) {
    if (!properties.contains(name)) return fmt::format("{}: unknown field '{}'", where, name);
    const json& spec = properties[name];
    if (is_request && spec.value("readOnly", false))
      return fmt::format("{}.{}: output only", where, name);
    if (std::string error = CheckValue(member, spec, fmt::format("{}.{}", where, name), is_request);
        !error.empty())
      return error;
  }
  if (is_request) {
    for (const auto& [name, spec] : properties.items()) {
      if (std::regex_search(spec.value("description", ""), kRequired) && !value.contains(name)) {
        return fmt::format("{}.{}: required", where, name);
      }
    }
  }
  return "";
}

std::string DiscoverySchema::CheckValue(const json& value, const json& spec,
                                        const std::string& where, bool is_request) const {
  if (spec.contains("$ref")) return CheckObject(value, spec["$ref"], where, is_request);
  const std::string type = spec.value("type", "any");
  const std::string format = spec.value("format", "");
  if (type == "any") return "";
  if (type == "string") {
    if (!value.is_string()) return fmt::format("{}: {} is not a string", where, value.dump());
    const std::string text = value.get<std::string>();
    if (format == "int64" && !std::regex_match(text, kInt64))
      return fmt::format("{}: '{}' is not an int64", where, text);
    if (format == "uint64" && !std::regex_match(text, kUint))
      return fmt::format("{}: '{}' is not a uint64", where, text);
    if (spec.contains("enum")) {
      bool known = false;
      for (const json& option : spec["enum"]) known = known || option == value;
      if (!known) return fmt::format("{}: '{}' is not one of {}", where, text, spec["enum"].dump());
    }
    return "";
  }
  if (type == "integer") {
    if (!value.is_number_integer())
      return fmt::format("{}: {} is not an integer", where, value.dump());
    if (format.starts_with("uint") && value.get<std::int64_t>() < 0) return where + ": negative";
    return "";
  }
  if (type == "number")
    return value.is_number() ? "" : fmt::format("{}: {} is not a number", where, value.dump());
  if (type == "boolean")
    return value.is_boolean() ? "" : fmt::format("{}: {} is not a boolean", where, value.dump());
  if (type == "array") {
    if (!value.is_array()) return fmt::format("{}: not an array", where);
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (std::string error =
              CheckValue(value[i], spec["items"], fmt::format("{}[{}]", where, i), is_request);
          !error.empty()) {
        return error;
      }
    }
    return "";
  }
  if (type == "object") {
    if (!value.is_object()) return fmt::format("{}: not an object", where);
    if (!spec.contains("additionalProperties")) return "";
    for (const auto& [key, member] : value.items()) {
      if (std::string error = CheckValue(member, spec["additionalProperties"],
                                         fmt::format("{}.{}", where, key), is_request);
          !error.empty()) {
        return error;
      }
    }
    return "";
  }
  return fmt::format("{}: the schema's type '{}' is not known to the check", where, type);
}

std::string DiscoverySchema::CheckParameters(const std::string& method,
                                             const std::vector<std::string>& names) const {
  const auto dot = method.find('.');
  const json& spec =
      document_["resources"][method.substr(0, dot)]["methods"][method.substr(dot + 1)];
  for (const std::string& name : names) {
    const bool known = spec["parameters"].contains(name) || document_["parameters"].contains(name);
    if (!known) return fmt::format("{}: unknown query parameter '{}'", method, name);
  }
  return "";
}

namespace {

class ExecutorEngine final : public BigQueryStandIn::Engine {
 public:
  explicit ExecutorEngine(BigQueryStandIn::Executor executor) : executor_(std::move(executor)) {}
  BigQueryStandIn::Outcome Run(const json& query) override { return executor_(query); }

 private:
  BigQueryStandIn::Executor executor_;
};

}  // namespace

BigQueryStandIn::BigQueryStandIn(Options options, Executor executor)
    : BigQueryStandIn(std::move(options), std::make_unique<ExecutorEngine>(std::move(executor))) {}

BigQueryStandIn::BigQueryStandIn(Options options, std::unique_ptr<Engine> engine)
    : options_(std::move(options)),
      engine_(std::move(engine)),
      schema_(BIKESTREAM_TEST_DATA "/support/bigquery/bigquery-v2-discovery.json"),
      server_(
          std::make_unique<LoopbackServer>([this](httplib::Server& server) { Route(server); })) {}

void BigQueryStandIn::InjectFault(Fault fault) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

void BigQueryStandIn::FailNextJob(Failure failure) {
  std::lock_guard lock(mutex_);
  job_failures_.push_back(std::move(failure));
}

int BigQueryStandIn::invalid_requests() const {
  std::lock_guard lock(mutex_);
  return invalid_requests_;
}

int BigQueryStandIn::executions() const {
  std::lock_guard lock(mutex_);
  return executions_;
}

int BigQueryStandIn::cancelled_for_concurrent_update() const {
  std::lock_guard lock(mutex_);
  return cancelled_for_concurrent_update_;
}

std::vector<std::string> BigQueryStandIn::job_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, job] : jobs_) ids.push_back(id);
  return ids;
}

std::optional<json> BigQueryStandIn::dataset(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto found = datasets_.find(id);
  return found == datasets_.end() ? std::nullopt : std::optional<json>(found->second);
}

std::optional<json> BigQueryStandIn::table(const std::string& dataset,
                                           const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto found = tables_.find(dataset + "." + id);
  return found == tables_.end() ? std::nullopt : std::optional<json>(found->second);
}

std::vector<std::string> BigQueryStandIn::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::optional<BigQueryStandIn::Fault> BigQueryStandIn::TakeFault(const std::string& method) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->method == method) {
      Fault fault = *it;
      faults_.erase(it);
      return fault;
    }
  }
  return std::nullopt;
}

void BigQueryStandIn::Serve(const std::string& method, const std::string& request_schema,
                            const std::string& reply_schema, const httplib::Request& request,
                            httplib::Response& response, const Handler& handler) {
  auto reply = [&](int status, const json& body) {
    response.status = status;
    if (status != 204) response.set_content(body.dump(), "application/json");  // No Content.
  };
  std::lock_guard lock(mutex_);
  calls_.push_back(method);
  if (!options_.token.empty() &&
      request.get_header_value("Authorization") != "Bearer " + options_.token) {
    return reply(401,
                 GoogleError(401, "authError", "Request had invalid authentication credentials."));
  }
  std::vector<std::string> names;
  for (const auto& [name, value] : request.params) names.push_back(name);
  std::string invalid = schema_.CheckParameters(method, names);
  json body;
  if (invalid.empty() && !request_schema.empty()) {
    body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    invalid = body.is_discarded() ? "the body is not JSON"
                                  : schema_.Check(body, request_schema, /*is_request=*/true);
  }
  if (!invalid.empty()) {
    ++invalid_requests_;
    return reply(400, GoogleError(400, "invalid", "Invalid request: " + invalid));
  }
  std::optional<Fault> fault = TakeFault(method);
  if (fault && !fault->after_applying) {
    return reply(fault->http_status,
                 GoogleError(fault->http_status, fault->reason, "injected by the test"));
  }
  int status = 200;
  json answer;
  try {
    answer = handler(request, &status);
  } catch (const std::exception& e) {  // A bug of the stand-in's, told as one.
    return reply(
        500, GoogleError(500, "standInBroken", std::string("the stand-in failed: ") + e.what()));
  }
  if (fault)
    return reply(fault->http_status,
                 GoogleError(fault->http_status, fault->reason, "injected after applying"));
  if (status == 200) {
    if (std::string wrong = schema_.Check(answer, reply_schema, /*is_request=*/false);
        !wrong.empty()) {
      return reply(500, GoogleError(500, "standInBroken",
                                    "the stand-in's own reply breaks the schema: " + wrong));
    }
  }
  reply(status, answer);
}

std::set<std::string> BigQueryStandIn::TransactionWrites(const json& configuration) const {
  static const std::regex kBegin(R"(\bBEGIN\s+TRANSACTION\b)", std::regex::icase);
  static const std::regex kWrite(
      R"(\b(?:INSERT\s+(?:INTO\s+)?|UPDATE\s+|DELETE\s+(?:FROM\s+)?|MERGE\s+(?:INTO\s+)?)`?(\w+)`?)",
      std::regex::icase);
  const json& query = configuration.value("query", json::object());
  const std::string script = query.value("query", "");
  std::set<std::string> writes;
  if (!std::regex_search(script, kBegin)) return writes;
  const std::string dataset =
      query.contains("defaultDataset") ? query["defaultDataset"].value("datasetId", "") : "";
  for (auto it = std::sregex_iterator(script.begin(), script.end(), kWrite);
       it != std::sregex_iterator(); ++it) {
    const std::string table = dataset + "." + (*it)[1].str();
    if (tables_.contains(table)) writes.insert(table);  // Not a script's temporary table.
  }
  return writes;
}

std::optional<std::string> BigQueryStandIn::ConflictWith(
    const std::set<std::string>& writes) const {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [id, job] : jobs_) {
    if (job.done_at <= now) continue;
    for (const std::string& table : job.transaction_writes) {
      if (writes.contains(table)) return table;
    }
  }
  return std::nullopt;
}

json BigQueryStandIn::RunJob(const json& reference, const json& configuration) {
  Job job{.reference = reference, .configuration = configuration, .outcome = Failure{}};
  job.started_ms = std::stoll(CreationTime().get<std::string>());
  job.transaction_writes = TransactionWrites(configuration);
  if (!job_failures_.empty()) {
    job.outcome = job_failures_.front();
    job_failures_.pop_front();
  } else if (auto table = ConflictWith(job.transaction_writes)) {
    ++cancelled_for_concurrent_update_;
    job.outcome = Failure{"invalidQuery",
                          fmt::format("Transaction is aborted due to concurrent update against "
                                      "table {}:{}.",
                                      options_.project, *table)};
    job.transaction_writes.clear();
  } else {
    ++executions_;
    job.outcome = engine_->Run(configuration.value("query", json::object()));
    if (std::holds_alternative<Result>(job.outcome)) {
      job.done_at = std::chrono::steady_clock::now() + options_.transaction_time;
      job.duration_ms = options_.transaction_time.count();
    } else {
      job.transaction_writes.clear();  // A failed transaction holds nothing.
    }
  }
  const std::string id = reference["jobId"];
  return JobResource(jobs_.insert_or_assign(id, std::move(job)).first->second);
}

json BigQueryStandIn::RunLoad(const json& reference, const json& configuration,
                              const std::string& data) {
  const json& load = configuration["load"];
  const json& destination = load["destinationTable"];
  const std::string dataset = destination.value("datasetId", "");
  const std::string key = dataset + "." + destination.value("tableId", "");
  Job job{.reference = reference, .configuration = configuration, .outcome = Failure{}};
  if (!datasets_.contains(dataset)) {
    job.outcome = Failure{"notFound", "Not found: Dataset " + options_.project + ":" + dataset};
  } else if (table_changes_[key] >= options_.table_changes_per_day) {
    job.outcome = Failure{"quotaExceeded",
                          "Quota exceeded: Your table exceeded quota for imports or query appends "
                          "per table. For more information, see "
                          "https://cloud.google.com/bigquery/docs/troubleshoot-quotas"};
  } else if (!tables_.contains(key) && load.value("createDisposition", "") != "CREATE_IF_NEEDED") {
    job.outcome = Failure{"notFound", "Not found: Table " + options_.project + ":" + key};
  } else {
    if (!tables_.contains(key)) {
      json table = {{"kind", "bigquery#table"},
                    {"type", "TABLE"},
                    {"creationTime", CreationTime()},
                    {"tableReference", destination},
                    {"schema", load["schema"]}};
      engine_->TableCreated(dataset, table);
      tables_[key] = table;
    }
    ++table_changes_[key];
    job.outcome = engine_->Load(dataset, tables_[key], data);
  }
  const std::string id = reference["jobId"];
  return JobResource(jobs_.insert_or_assign(id, std::move(job)).first->second);
}

json BigQueryStandIn::InsertWithMedia(const httplib::Request& request, int* status) {
  const auto refuse = [&](const std::string& why) {
    *status = 400;
    return GoogleError(400, "invalid", "Invalid upload request: " + why);
  };
  if (request.get_param_value("uploadType") != "multipart") return refuse("uploadType=multipart");
  static const std::regex kBoundary(R"(^multipart/related;\s*boundary=\"?([^\";]+)\"?)");
  std::smatch boundary;
  const std::string type = request.get_header_value("Content-Type");
  if (!std::regex_search(type, boundary, kBoundary)) return refuse("Content-Type: " + type);
  // --B CRLF headers CRLF CRLF body CRLF --B ... --B-- (RFC 2046, 2387).
  const std::string delimiter = "--" + boundary[1].str();
  std::vector<std::string> parts;
  std::size_t at = request.body.find(delimiter);
  while (at != std::string::npos) {
    const std::size_t start = at + delimiter.size();
    if (request.body.compare(start, 2, "--") == 0) break;
    const std::size_t next = request.body.find("\r\n" + delimiter, start);
    if (next == std::string::npos) return refuse("a part is not closed");
    const std::size_t headers_end = request.body.find("\r\n\r\n", start);
    if (headers_end == std::string::npos || headers_end > next)
      return refuse("a part has no headers");
    parts.push_back(request.body.substr(headers_end + 4, next - headers_end - 4));
    at = next + 2;
  }
  if (parts.size() != 2) return refuse(fmt::format("{} parts, not 2", parts.size()));
  const json job = json::parse(parts[0], nullptr, /*allow_exceptions=*/false);
  if (job.is_discarded()) return refuse("the first part is not JSON");
  if (!job.contains("configuration") || !job["configuration"].contains("load")) {
    return refuse("a media upload is a load job");
  }
  // The document marks load.sourceUris [Required], but an upload carries its data instead
  // (`bq load` of a local file and Google's client libraries send none).
  json checked = job;
  if (!checked["configuration"]["load"].contains("sourceUris")) {
    checked["configuration"]["load"]["sourceUris"] = json::array();
  }
  if (std::string wrong = schema_.Check(checked, "Job", /*is_request=*/true); !wrong.empty()) {
    ++invalid_requests_;
    return refuse(wrong);
  }
  if (jobs_.contains(job["jobReference"]["jobId"])) {
    *status = 409;
    return GoogleError(409, "duplicate",
                       "Already Exists: Job " + job["jobReference"]["jobId"].get<std::string>());
  }
  return RunLoad(job["jobReference"], job["configuration"], parts[1]);
}

json BigQueryStandIn::JobResource(const Job& job) const {
  const bool running =
      job.polls < options_.polls_before_done || std::chrono::steady_clock::now() < job.done_at;
  json status = {{"state", running ? "RUNNING" : "DONE"}};
  json statistics = {{"creationTime", Int64(job.started_ms)}, {"startTime", Int64(job.started_ms)}};
  if (!running) statistics["endTime"] = Int64(job.started_ms + job.duration_ms);
  if (const auto* failure = std::get_if<Failure>(&job.outcome)) {
    status["errorResult"] = {{"reason", failure->reason}, {"message", failure->message}};
  } else {
    const auto& result = std::get<Result>(job.outcome);
    statistics["totalBytesProcessed"] = Int64(result.bytes_processed);
    if (job.configuration.contains("load")) {
      statistics["load"] = json::object();  // Loads are free: no bytes billed.
    } else {
      statistics["query"] = {{"totalBytesProcessed", Int64(result.bytes_processed)},
                             {"totalBytesBilled", Int64(result.bytes_billed)}};
    }
  }
  const std::string id = job.reference["jobId"];
  return {
      {"kind", "bigquery#job"},
      {"id", fmt::format("{}:{}.{}", options_.project, job.reference.value("location", "US"), id)},
      {"jobReference", job.reference},
      {"configuration", job.configuration},
      {"status", status},
      {"statistics", statistics}};
}

json BigQueryStandIn::RowsPage(const Result& result, const httplib::Request& request,
                               std::string* next_page_token) {
  const std::size_t start =
      request.has_param("pageToken") ? std::stoul(request.get_param_value("pageToken")) : 0;
  const std::size_t page_rows = request.has_param("maxResults")
                                    ? std::stoul(request.get_param_value("maxResults"))
                                    : result.rows.size();
  const bool int64_timestamps =
      request.get_param_value("formatOptions.useInt64Timestamp") == "true";
  json rows = json::array();
  for (std::size_t r = start; r < result.rows.size() && r < start + page_rows; ++r) {
    json cells = json::array();
    for (std::size_t c = 0; c < result.rows[r].size(); ++c) {
      const auto& cell = result.rows[r][c];
      if (!cell) {
        cells.push_back({{"v", nullptr}});
      } else if (result.fields[c].second == "TIMESTAMP" && !int64_timestamps) {
        cells.push_back(
            {{"v", fmt::format("{:E}", double(std::stoll(*cell)) / 1e6)}});  // BigQuery's default.
      } else {
        cells.push_back({{"v", *cell}});
      }
    }
    rows.push_back({{"f", cells}});
  }
  next_page_token->clear();
  if (start + page_rows < result.rows.size()) *next_page_token = std::to_string(start + page_rows);
  return rows;
}

json BigQueryStandIn::ResultsPage(const Job& job, const httplib::Request& request,
                                  int* status) const {
  if (const auto* failure = std::get_if<Failure>(&job.outcome)) {
    *status = failure->reason == "notFound" ? 404 : failure->reason == "accessDenied" ? 403 : 400;
    return GoogleError(*status, failure->reason, failure->message);
  }
  const auto& result = std::get<Result>(job.outcome);
  json fields = json::array();
  for (const auto& [name, type] : result.fields)
    fields.push_back({{"name", name}, {"type", type}, {"mode", "NULLABLE"}});
  std::string next_page_token;
  json page = {{"kind", "bigquery#getQueryResultsResponse"},
               {"jobReference", job.reference},
               {"jobComplete", true},
               {"schema", {{"fields", fields}}},
               {"rows", RowsPage(result, request, &next_page_token)},
               {"totalRows", std::to_string(result.rows.size())},
               {"totalBytesProcessed", Int64(result.bytes_processed)}};
  if (!next_page_token.empty()) page["pageToken"] = next_page_token;
  return page;
}

void BigQueryStandIn::RouteTables(httplib::Server& server, const std::string& projects) {
  const std::string tables = projects + "/datasets/([^/]+)/tables";
  server.Get(tables, [this](const httplib::Request& request, httplib::Response& response) {
    Serve("tables.list", "", "TableList", request, response,
          [&](const httplib::Request&, int* status) -> json {
            const std::string dataset = request.matches[2];
            if (!datasets_.contains(dataset)) {
              *status = 404;
              return GoogleError(404, "notFound",
                                 "Not found: Dataset " + options_.project + ":" + dataset);
            }
            std::vector<json> listed;
            for (const auto& [key, table] : tables_) {
              if (!key.starts_with(dataset + ".")) continue;
              listed.push_back({{"kind", "bigquery#table"},
                                {"id", options_.project + ":" + key},
                                {"tableReference", table["tableReference"]},
                                {"type", "TABLE"},
                                {"creationTime", table["creationTime"]}});
            }
            const std::size_t start = request.has_param("pageToken")
                                          ? std::stoul(request.get_param_value("pageToken"))
                                          : 0;
            const std::size_t page = request.has_param("maxResults")
                                         ? std::stoul(request.get_param_value("maxResults"))
                                         : listed.size();
            json reply = {{"kind", "bigquery#tableList"},
                          {"totalItems", listed.size()},
                          {"tables", json::array()}};
            for (std::size_t i = start; i < listed.size() && i < start + page; ++i) {
              reply["tables"].push_back(listed[i]);
            }
            if (start + page < listed.size()) reply["nextPageToken"] = std::to_string(start + page);
            return reply;
          });
  });
  server.Delete(tables + "/([^/]+)", [this](const httplib::Request& request,
                                            httplib::Response& response) {
    Serve("tables.delete", "", "", request, response, [&](const httplib::Request&, int* status) {
      const std::string dataset = request.matches[2];
      const std::string key = dataset + "." + std::string(request.matches[3]);
      if (tables_.erase(key) == 0) {
        *status = 404;
        return GoogleError(404, "notFound", "Not found: Table " + options_.project + ":" + key);
      }
      engine_->TableDeleted(dataset, request.matches[3]);
      *status = 204;
      return json();
    });
  });
  server.Get(tables + "/([^/]+)/data", [this](const httplib::Request& request,
                                              httplib::Response& response) {
    Serve("tabledata.list", "", "TableDataList", request, response,
          [&](const httplib::Request&, int* status) -> json {
            const std::string dataset = request.matches[2];
            const std::string table = request.matches[3];
            const auto found = tables_.find(dataset + "." + table);
            if (found == tables_.end()) {
              *status = 404;
              return GoogleError(404, "notFound", "Not found: Table " + dataset + "." + table);
            }
            std::vector<std::string> fields;
            for (const json& field : found->second["schema"]["fields"]) {
              fields.push_back(field["name"]);
            }
            if (request.has_param("selectedFields")) {
              fields = absl::StrSplit(request.get_param_value("selectedFields"), ',');
            }
            const Outcome read = engine_->ReadTable(dataset, table, fields);
            if (const auto* failure = std::get_if<Failure>(&read)) {
              *status = 400;
              return GoogleError(400, failure->reason, failure->message);
            }
            const auto& result = std::get<Result>(read);
            std::string next_page_token;
            json page = {{"kind", "bigquery#tableDataList"},
                         {"totalRows", std::to_string(result.rows.size())},
                         {"rows", RowsPage(result, request, &next_page_token)}};
            if (!next_page_token.empty()) page["pageToken"] = next_page_token;
            return page;
          });
  });
}

void BigQueryStandIn::Route(httplib::Server& server) {
  const std::string projects = "/bigquery/v2/projects/([^/]+)";
  server.Post(
      projects + "/jobs", [this](const httplib::Request& request, httplib::Response& response) {
        Serve("jobs.insert", "Job", "Job", request, response,
              [&](const httplib::Request&, int* status) -> json {
                const json job = json::parse(request.body);
                if (!job.contains("jobReference") || !job["jobReference"].contains("jobId")) {
                  *status = 400;
                  return GoogleError(
                      400, "invalid",
                      "the stand-in needs a jobReference.jobId (the warehouse always sets one)");
                }
                if (jobs_.contains(job["jobReference"]["jobId"])) {
                  *status = 409;
                  return GoogleError(
                      409, "duplicate",
                      "Already Exists: Job " + job["jobReference"]["jobId"].get<std::string>());
                }
                return RunJob(job["jobReference"], job["configuration"]);
              });
      });
  server.Post("/upload" + projects + "/jobs", [this](const httplib::Request& request,
                                                     httplib::Response& response) {
    Serve("jobs.insert", "", "Job", request, response,
          [&](const httplib::Request&, int* status) { return InsertWithMedia(request, status); });
  });
  server.Get(projects + "/jobs/([^/]+)",
             [this](const httplib::Request& request, httplib::Response& response) {
               Serve("jobs.get", "", "Job", request, response,
                     [&](const httplib::Request&, int* status) -> json {
                       auto found = jobs_.find(request.matches[2]);
                       if (found == jobs_.end()) {
                         *status = 404;
                         return GoogleError(404, "notFound",
                                            "Not found: Job " + std::string(request.matches[2]));
                       }
                       json resource = JobResource(found->second);
                       ++found->second.polls;
                       return resource;
                     });
             });
  server.Get(projects + "/queries/([^/]+)",
             [this](const httplib::Request& request, httplib::Response& response) {
               Serve("jobs.getQueryResults", "", "GetQueryResultsResponse", request, response,
                     [&](const httplib::Request&, int* status) -> json {
                       auto found = jobs_.find(request.matches[2]);
                       if (found == jobs_.end()) {
                         *status = 404;
                         return GoogleError(404, "notFound",
                                            "Not found: Job " + std::string(request.matches[2]));
                       }
                       return ResultsPage(found->second, request, status);
                     });
             });
  server.Post(
      projects + "/queries", [this](const httplib::Request& request, httplib::Response& response) {
        Serve("jobs.query", "QueryRequest", "QueryResponse", request, response,
              [&](const httplib::Request&, int* status) -> json {
                const json query = json::parse(request.body);
                const json reference = {{"projectId", options_.project},
                                        {"jobId", fmt::format("query_{}", ++next_query_job_)},
                                        {"location", query.value("location", "US")}};
                json configuration = json::object();
                for (const char* field : {"query", "useLegacySql", "parameterMode",
                                          "queryParameters", "defaultDataset"}) {
                  if (query.contains(field)) configuration[field] = query[field];
                }
                RunJob(reference, {{"query", configuration}});
                const Job& job = jobs_.at(reference["jobId"]);
                httplib::Request first_page;
                first_page.params.emplace("maxResults",
                                          std::to_string(query.value("maxResults", 100000)));
                if (query.contains("formatOptions") &&
                    query["formatOptions"].value("useInt64Timestamp", false)) {
                  first_page.params.emplace("formatOptions.useInt64Timestamp", "true");
                }
                json page = ResultsPage(job, first_page, status);
                if (*status == 200) {
                  page["kind"] = "bigquery#queryResponse";
                  page["totalBytesBilled"] = Int64(std::get<Result>(job.outcome).bytes_billed);
                }
                return page;
              });
      });
  server.Post(projects + "/datasets",
              [this](const httplib::Request& request, httplib::Response& response) {
                Serve("datasets.insert", "Dataset", "Dataset", request, response,
                      [&](const httplib::Request&, int* status) {
                        json dataset = json::parse(request.body);
                        const std::string id = dataset["datasetReference"]["datasetId"];
                        if (datasets_.contains(id)) {
                          *status = 409;
                          return GoogleError(409, "duplicate", "Already Exists: Dataset " + id);
                        }
                        dataset["id"] = options_.project + ":" + id;
                        dataset["kind"] = "bigquery#dataset";
                        engine_->DatasetCreated(id);
                        return datasets_[id] = dataset;
                      });
              });
  server.Get(projects + "/datasets/([^/]+)",
             [this](const httplib::Request& request, httplib::Response& response) {
               Serve("datasets.get", "", "Dataset", request, response,
                     [&](const httplib::Request&, int* status) {
                       auto found = datasets_.find(request.matches[2]);
                       if (found != datasets_.end()) return found->second;
                       *status = 404;
                       return GoogleError(404, "notFound",
                                          "Not found: Dataset " + options_.project + ":" +
                                              std::string(request.matches[2]));
                     });
             });
  server.Post(projects + "/datasets/([^/]+)/tables", [this](const httplib::Request& request,
                                                            httplib::Response& response) {
    Serve("tables.insert", "Table", "Table", request, response,
          [&](const httplib::Request&, int* status) {
            const std::string dataset = request.matches[2];
            json table = json::parse(request.body);
            const std::string key = dataset + "." + table["tableReference"].value("tableId", "");
            if (!datasets_.contains(dataset)) {
              *status = 404;
              return GoogleError(404, "notFound",
                                 "Not found: Dataset " + options_.project + ":" + dataset);
            }
            if (tables_.contains(key)) {
              *status = 409;
              return GoogleError(409, "duplicate", "Already Exists: Table " + key);
            }
            table["kind"] = "bigquery#table";
            table["type"] = "TABLE";
            table["creationTime"] = CreationTime();
            engine_->TableCreated(dataset, table);
            return tables_[key] = table;
          });
  });
  RouteTables(server, projects);
  server.Get(projects + "/datasets/([^/]+)/tables/([^/]+)", [this](const httplib::Request& request,
                                                                   httplib::Response& response) {
    Serve("tables.get", "", "Table", request, response, [&](const httplib::Request&, int* status) {
      auto found =
          tables_.find(std::string(request.matches[2]) + "." + std::string(request.matches[3]));
      if (found != tables_.end()) return found->second;
      *status = 404;
      return GoogleError(404, "notFound", "Not found: Table " + std::string(request.matches[3]));
    });
  });
}

}  // namespace bikestream::testing_support

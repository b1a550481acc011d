// Opening the warehouse, and its dataset and tables: created when missing, checked when there.
#include <fmt/format.h>

#include <cstdlib>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/redact.h"
#include "common/status.h"
#include "gcp/google_api.h"
#include "warehouse/bigquery/bigquery_backend.h"
#include "warehouse/sql/table_names.h"

namespace bikestream {
namespace bigquery {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxTableNameBytes = 1024;

json Column(const char* name, const char* type, const char* mode = "REQUIRED") {
  return {{"name", name}, {"type", type}, {"mode", mode}};
}

// The notes' schema (docs/design.md), as BigQuery reports types (INTEGER for INT64, FLOAT for
// FLOAT64).
json RawEventColumns() {
  return json::array({Column("event_id", "STRING"), Column("station_id", "STRING"),
                      Column("ts_iso", "TIMESTAMP"), Column("kind", "STRING"),
                      Column("delta", "INTEGER")});
}
json StationFeatureColumns() {
  return json::array({Column("station_id", "STRING"), Column("feature_name", "STRING"),
                      Column("window_len", "STRING"), Column("value", "FLOAT", "NULLABLE"),
                      Column("as_of", "TIMESTAMP")});
}
json DeadLetterColumns() {
  return json::array({Column("id", "INTEGER"), Column("first_seen", "TIMESTAMP"),
                      Column("source", "STRING"), Column("message_id", "STRING"),
                      Column("payload", "STRING"), Column("reason", "STRING"),
                      Column("error", "STRING"), Column("publish_time", "TIMESTAMP", "NULLABLE")});
}

json StationColumns() {
  return json::array({Column("station_id", "STRING"), Column("name", "STRING"),
                      Column("lat", "FLOAT"), Column("lon", "FLOAT"),
                      Column("capacity", "INTEGER", "NULLABLE"),
                      Column("last_updated", "TIMESTAMP")});
}

// "name TYPE MODE, ..." of a schema's fields, with the standard SQL names folded to the legacy
// ones BigQuery reports.
std::string Describe(const json& fields) {
  std::string text;
  if (!fields.is_array()) return text;
  for (const json& field : fields) {
    std::string type = TextOf(field, "type");
    if (type == "INT64") type = "INTEGER";
    if (type == "FLOAT64") type = "FLOAT";
    if (type == "BOOL") type = "BOOLEAN";
    const std::string mode = TextOf(field, "mode");
    text += fmt::format("{}{} {} {}", text.empty() ? "" : ", ", TextOf(field, "name"), type,
                        mode.empty() ? "NULLABLE" : mode);
  }
  return text;
}

}  // namespace

BigQueryWarehouse::BigQueryWarehouse(BigQueryWarehouseOptions options, TableNames tables)
    : options_(std::move(options)),
      tables_(std::move(tables)),
      client_([&] {
        ClientOptions client = options_.client;
        client.default_dataset = options_.dataset;
        return client;
      }()),
      committer_(client_, tables_, options_.dataset, options_.commit,
                 options_.client.clock ? *options_.client.clock : SystemClock()) {}

absl::Status BigQueryWarehouse::Setup() {
  const ClientOptions& client = client_.options();
  auto dataset = client_.GetDataset(options_.dataset);
  if (!dataset.ok()) return dataset.status();
  if (!dataset->has_value()) {
    const json resource = {
        {"datasetReference", {{"projectId", client.project}, {"datasetId", options_.dataset}}},
        {"location", client.location}};
    // Another worker's setup may have created it meanwhile.
    if (absl::Status created = client_.CreateDataset(resource);
        !created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
      return created;
    }
  } else if (std::string location = TextOf(**dataset, "location");
             !location.empty() && !absl::EqualsIgnoreCase(location, client.location)) {
    return absl::FailedPreconditionError(fmt::format(
        "BigQuery dataset {}:{} is in {}, not {}: add ?location={} to the warehouse URL",
        client.project, options_.dataset, location, client.location, location));
  }
  // Partitioned by day and clustered by station: the dedup of a batch reads only its days, and
  // a station's reads only its blocks.
  const json by_day = {{"timePartitioning", {{"type", "DAY"}, {"field", "ts_iso"}}},
                       {"clustering", {{"fields", {"station_id"}}}}};
  const json by_as_of = {{"timePartitioning", {{"type", "DAY"}, {"field", "as_of"}}},
                         {"clustering", {{"fields", {"station_id", "feature_name"}}}}};
  for (const auto& [name, fields, layout] :
       {std::tuple{tables_.raw_events, RawEventColumns(), by_day},
        std::tuple{tables_.station_features, StationFeatureColumns(), by_as_of},
        std::tuple{tables_.dead_letter, DeadLetterColumns(), json::object()},
        std::tuple{tables_.stations, StationColumns(), json::object()},
        std::tuple{std::string(kWriterTable), json::array({Column("commits", "INTEGER")}),
                   json::object()}}) {
    if (absl::Status status = EnsureTable(name, fields, layout); !status.ok()) return status;
  }
  // The writer row (two setups at once may make two: harmless, every commit updates them all).
  auto inserted = client_.RunQueryJob(UniqueJobId("bikestream_setup"),
                                      fmt::format("INSERT INTO {0} (commits) SELECT 0 FROM (SELECT "
                                                  "1 AS one) WHERE NOT EXISTS (SELECT 1 FROM {0})",
                                                  Quoted(kWriterTable)),
                                      json::array());
  return inserted.status();
}

absl::Status BigQueryWarehouse::EnsureTable(const std::string& name, const json& fields,
                                            const json& layout) {
  const ClientOptions& client = client_.options();
  auto existing = client_.GetTable(options_.dataset, name);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    const std::string have = Describe(MemberOf(MemberOf(**existing, "schema"), "fields"));
    const std::string want = Describe(fields);
    if (have == want) return absl::OkStatus();
    return absl::FailedPreconditionError(
        fmt::format("BigQuery table {}:{}.{} exists with another schema, left as it is: it has "
                    "({}), bikestream needs ({}); "
                    "point the warehouse at another dataset, or move the table away",
                    client.project, options_.dataset, name, have, want));
  }
  json table = layout;
  table["tableReference"] = {
      {"projectId", client.project}, {"datasetId", options_.dataset}, {"tableId", name}};
  table["schema"] = {{"fields", fields}};
  absl::Status created = client_.CreateTable(options_.dataset, table);
  return created.code() == absl::StatusCode::kAlreadyExists ? absl::OkStatus() : created;
}

}  // namespace bigquery

absl::StatusOr<std::unique_ptr<Warehouse>> OpenBigQueryWarehouse(BigQueryWarehouseOptions options,
                                                                 const TableNames& tables) {
  if (absl::Status names = CheckTableNames(tables, bigquery::kMaxTableNameBytes, "BigQuery");
      !names.ok()) {
    return names;
  }
  return std::make_unique<bigquery::BigQueryWarehouse>(std::move(options), tables);
}

absl::StatusOr<std::unique_ptr<Warehouse>> OpenBigQueryWarehouse(std::string_view url,
                                                                 const TableNames& tables,
                                                                 OpenMode) {
  // bigquery://PROJECT/DATASET[?location=LOCATION][&endpoint=URL]; a project id may hold a
  // domain and ':'.
  static const std::regex kForm(
      R"(bigquery://([a-z][-a-z0-9.:]*[a-z0-9])/([A-Za-z0-9_]+)(\?(.*))?)");
  std::cmatch parts;
  if (!std::regex_match(url.begin(), url.end(), parts, kForm)) {
    return absl::InvalidArgumentError(
        fmt::format("warehouse URL '{}': use bigquery://PROJECT/DATASET[?location=LOCATION], e.g. "
                    "bigquery://my-project/bike_streaming?location=EU (dataset names are letters, "
                    "digits and '_')",
                    RedactUrl(url)));
  }
  BigQueryWarehouseOptions options{.dataset = parts[2]};
  options.client.project = parts[1];
  std::string endpoint = std::getenv("BIGQUERY_ENDPOINT") ? std::getenv("BIGQUERY_ENDPOINT") : "";
  std::string endpoint_source = "BIGQUERY_ENDPOINT";
  static const std::regex kLocation("[A-Za-z][-A-Za-z0-9]*");
  std::set<std::string, std::less<>> seen;
  for (absl::string_view piece : absl::StrSplit(
           absl::string_view(parts[4].first, parts[4].length()), '&', absl::SkipEmpty())) {
    const std::string_view parameter(piece.data(), piece.size());
    const std::size_t equals = parameter.find('=');
    const std::string key(parameter.substr(0, equals));
    const std::string value(equals == std::string_view::npos ? "" : parameter.substr(equals + 1));
    if (key != "location" && key != "endpoint" && key != "max_commit_delay") {
      return absl::InvalidArgumentError(
          fmt::format("warehouse URL '{}': '{}' is not a parameter it takes; use "
                      "?location=LOCATION (or --location), "
                      "&endpoint=URL (or --bigquery-endpoint) and "
                      "&max_commit_delay=SECONDS (or --max-commit-delay)",
                      RedactUrl(url), key));
    }
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(
          fmt::format("warehouse URL '{}': give {} once", RedactUrl(url), key));
    }
    if (key == "location") {
      if (!std::regex_match(value, kLocation)) {
        return absl::InvalidArgumentError(fmt::format(
            "warehouse URL '{}': location '{}' is not one; use e.g. US, EU or europe-west1",
            RedactUrl(url), value));
      }
      options.client.location = value;
    } else if (key == "max_commit_delay") {
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || !(seconds >= 0 && seconds <= 86'400)) {
        return absl::InvalidArgumentError(
            fmt::format("warehouse URL '{}': max_commit_delay '{}' is not seconds from 0 to 86400",
                        RedactUrl(url), value));
      }
      options.commit.governor.max_commit_delay = DurationMicros(seconds * kMicrosPerSecond);
    } else {
      endpoint = value;
      endpoint_source = "the warehouse URL's endpoint (--bigquery-endpoint)";
    }
  }
  if (!endpoint.empty()) {
    auto checked = gcp::CheckEndpoint(endpoint, endpoint_source);
    if (!checked.ok()) return checked.status();
    options.client.endpoint = *checked;
  }
  auto credentials = gcp::CredentialsFromProcessEnvironment();
  if (!credentials.ok()) return credentials.status();
  options.client.credentials = std::move(*credentials);
  return OpenBigQueryWarehouse(std::move(options), tables);
}

}  // namespace bikestream

// Every bound on what bikestream reads from outside — reply and request bodies, lines, files —
// in one place, so that they can be read at once and docs/security.md can list them. Past a bound
// the item is refused with an error that names the bound (a log line, a dead letter, a failed
// poll), and the job goes on; memory stays bounded whatever arrives, compressed or not.
//
// Each bound is far above what real input needs (the figures beside them are measured), so it
// only ever meets a broken or hostile source.
#pragma once

#include <cstddef>
#include <string>

namespace bikestream::limits {

inline constexpr std::size_t kKiB = std::size_t{1} << 10;
inline constexpr std::size_t kMiB = std::size_t{1} << 20;

// A GBFS document fetched (gbfs.json, station_status, station_information), decoded: Oslo's
// largest station_status is 75 KB for 261 stations, so this holds over 100,000 stations.
inline constexpr std::size_t kFeedDocument = 32 * kMiB;
// A line of a recorded GBFS file, decoded: one station_status document.
inline constexpr std::size_t kSnapshotLine = kFeedDocument;
// A reply of a Google API (Pub/Sub, BigQuery): a pull of 1,000 messages of 256 KB each, a
// page of 10,000 rows. Past it a pull asks for fewer messages.
inline constexpr std::size_t kApiReply = 256 * kMiB;
// A token endpoint's or the metadata server's reply (about 2 KB), a job's /job (about 2 KB).
inline constexpr std::size_t kSmallReply = 1 * kMiB;
// A Pub/Sub push request: a message of at most 10 MB, base64 in its JSON envelope (13.4 MB).
inline constexpr std::size_t kPushRequest = 16 * kMiB;
// A POST to a job's admin endpoint or to the console: their bodies are not read.
inline constexpr std::size_t kControlRequest = 64 * kKiB;
// The --state of a gbfs poller: about 52 bytes a station, 150 an event being handed on.
inline constexpr std::size_t kStateFile = 64 * kMiB;
// A small local file: a credentials key file (about 2.3 KB), gcloud's ADC file, a feature file,
// a job's registry record.
inline constexpr std::size_t kSmallFile = 1 * kMiB;
// A station_information file given with --station-information: Oslo's is 58 KB.
inline constexpr std::size_t kStationInformationFile = kFeedDocument;
// A line of a --labels CSV file (a station id, a time, a label).
inline constexpr std::size_t kLabelsLine = 64 * kKiB;

// `bytes` for people: "32 MiB", "64 KiB", "100 bytes".
std::string BytesText(std::size_t bytes);

}  // namespace bikestream::limits

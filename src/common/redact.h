// The one path by which a secret is kept out of what bikestream shows: messages, logs, the job
// registry, /job, the console.
//
// Two mechanisms, applied together by RedactSecrets:
// - By shape (RedactUrl): the password of a URL's user:password@ (also in a mistyped URL, or
//   one nested in another's query), the value of a parameter whose name says it is secret
//   (password=, token=, key=, client_secret=, …; in a query, a key=value setting or a JSON
//   object), and what follows "Bearer ". Text without such a shape is left as it is.
// - By value: every secret the process holds is registered (RegisterSecret) where it is read —
//   flags, URLs, key files, tokens fetched — and is masked wherever it appears, raw,
//   percent-encoded or JSON-escaped: a server's reply that echoes what it was sent is caught.
// Text from outside (a reply's body) is quoted only through RemoteText, which also bounds it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bikestream {

inline constexpr std::string_view kRedacted = "***";

// `text` with the secrets that its shape shows masked as "***".
std::string RedactUrl(std::string_view text);

// Whether a parameter, variable or member of this name holds a secret: password, token, key,
// client_secret, …_token, …_secret, … (case aside).
bool IsSecretName(std::string_view name);

// Registers `secret` for RedactSecrets, for the rest of the process. Values shorter than
// kMinRegisteredSecret are not registered (masking them would garble the words around them);
// their shape still masks them in URLs and settings. Thread-safe.
inline constexpr std::size_t kMinRegisteredSecret = 6;
void RegisterSecret(std::string_view secret);
// The same, for a secret that is replaced as time goes on (an access token, a signed assertion):
// the last kRecentSecrets of them are kept, so that a job of months holds no ever-growing list.
inline constexpr std::size_t kRecentSecrets = 32;
void RegisterTemporarySecret(std::string_view secret);
// The password (or token) of a URL's user:password@, and of its password= and token=
// parameters, registered.
void RegisterUrlSecrets(std::string_view url);

// `text` with every registered secret (where it stands alone, not inside a longer word), and
// what RedactUrl finds, masked. Thread-safe.
std::string RedactSecrets(std::string_view text);

// A body or message from a remote service, fit to quote in an error: its first `max_bytes`
// (with "…" when cut), on one line without control characters, redacted.
std::string RemoteText(std::string_view text, std::size_t max_bytes = 300);

}  // namespace bikestream

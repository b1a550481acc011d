#include "common/redact.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/json_text.h"
#include "common/mutex.h"

namespace bikestream {
namespace {

using Range = std::pair<std::size_t, std::size_t>;  // [begin, end) of text to mask.

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}
// Where a URL written in running text ends.
bool EndsToken(char c) {
  return IsSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`';
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

bool IsSecretName(std::string_view name) {
  // Not "pwd": the shell's PWD is a directory.
  static constexpr std::array<std::string_view, 8> kExact = {
      "key", "apikey", "api_key", "sig", "auth", "assertion", "code", "credential"};
  static constexpr std::array<std::string_view, 6> kEndings = {
      "password", "passwd", "token", "secret", "signature", "private_key"};
  const std::string lower = Lower(name);
  if (std::find(kExact.begin(), kExact.end(), lower) != kExact.end()) return true;
  return std::any_of(kEndings.begin(), kEndings.end(),
                     [&](std::string_view ending) { return lower.ends_with(ending); });
}

namespace {

// user:PASSWORD@ after each "scheme:/" or "scheme://", nested URLs and a mistyped slash
// included. The user part is what comes before the authority's last '@', so a password holding
// '@' is masked whole (one holding '/' is no URL's: its value is masked only if registered).
void UserinfoPasswords(std::string_view text, std::vector<Range>& masks) {
  for (std::size_t colon = text.find(":/"); colon != std::string_view::npos;
       colon = text.find(":/", colon + 1)) {
    std::size_t start = colon + 2;
    if (start < text.size() && text[start] == '/') ++start;
    std::size_t end =
        start;  // Of the authority: each scan stops at the next '/', so all are linear.
    while (end < text.size() && !EndsToken(text[end]) && text[end] != '/' && text[end] != '?' &&
           text[end] != '#') {
      ++end;
    }
    const std::size_t at = text.substr(start, end - start).rfind('@');
    if (at == std::string_view::npos) continue;
    const std::size_t separator = text.substr(start, at).find(':');
    if (separator == std::string_view::npos || separator + 1 >= at) continue;
    // How a URL is written, in a message that teaches it: USER[:PASSWORD]@HOST.
    const std::string_view password = text.substr(start + separator + 1, at - separator - 1);
    if (password == "PASSWORD" || password == "PASSWORD]") continue;
    masks.emplace_back(start + separator + 1, start + at);
  }
}

// NAME=VALUE where NAME says it is secret: a query's parameters, key=value settings (libpq's
// conninfo, quoted values included).
void SecretParameters(std::string_view text, std::vector<Range>& masks) {
  for (std::size_t equals = text.find('='); equals != std::string_view::npos;
       equals = text.find('=', equals + 1)) {
    std::size_t name = equals;
    while (name > 0 && IsKeyChar(text[name - 1])) --name;
    if (name == equals || !IsSecretName(text.substr(name, equals - name))) continue;
    std::size_t begin = equals + 1;
    std::size_t end = begin;
    if (begin < text.size() && text[begin] == '\'') {  // 'quoted value', \' inside.
      for (end = ++begin; end < text.size() && text[end] != '\''; ++end) {
        if (text[end] == '\\') ++end;
      }
      end = std::min(end, text.size());
    } else {
      while (end < text.size() && !EndsToken(text[end]) && text[end] != '&' && text[end] != '#' &&
             text[end] != ',' && text[end] != ';' && text[end] != ')') {
        ++end;
      }
      // A URL's last parameter before the message goes on ("…?key=VALUE: give an https URL").
      while (end > begin && (text[end - 1] == ':' || text[end - 1] == '.')) --end;
    }
    if (end > begin) masks.emplace_back(begin, end);
    equals = std::max(equals,
                      end == 0 ? 0 : end - 1);  // On after the value: each byte is looked at once.
  }
}

// "NAME": "VALUE" where NAME says it is secret: a token endpoint's reply, a key file quoted.
void SecretJsonMembers(std::string_view text, std::vector<Range>& masks) {
  for (std::size_t quote = text.find('"'); quote != std::string_view::npos;
       quote = text.find('"', quote + 1)) {
    std::size_t name_end = quote + 1;
    while (name_end < text.size() && IsKeyChar(text[name_end])) ++name_end;
    if (name_end == quote + 1 || name_end >= text.size() || text[name_end] != '"') continue;
    if (!IsSecretName(text.substr(quote + 1, name_end - quote - 1))) continue;
    std::size_t at = name_end + 1;
    while (at < text.size() && IsSpace(text[at])) ++at;
    if (at >= text.size() || text[at] != ':') continue;
    ++at;
    while (at < text.size() && IsSpace(text[at])) ++at;
    if (at >= text.size() || text[at] != '"') continue;
    std::size_t end = ++at;
    for (; end < text.size() && text[end] != '"'; ++end) {
      if (text[end] == '\\') ++end;
    }
    end = std::min(end, text.size());
    if (end > at) masks.emplace_back(at, end);
    quote = end;
  }
}

// Whether a value is how a message writes one (TOKEN, T), not one.
bool IsPlaceholder(std::string_view value) {
  return !value.empty() && value.size() <= 8 &&
         std::all_of(value.begin(), value.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Bearer TOKEN, as an Authorization header echoed.
void BearerTokens(std::string_view text, std::vector<Range>& masks) {
  const std::string lower = Lower(text);
  for (std::size_t at = lower.find("bearer "); at != std::string::npos;
       at = lower.find("bearer ", at + 1)) {
    const std::size_t begin = at + 7;
    std::size_t end = begin;
    while (end < text.size() && !EndsToken(text[end]) && text[end] != ',') ++end;
    if (end > begin && !IsPlaceholder(text.substr(begin, end - begin)))
      masks.emplace_back(begin, end);
    at = std::max(at, end == 0 ? 0 : end - 1);
  }
}

std::string Masked(std::string_view text, std::vector<Range> masks) {
  std::sort(masks.begin(), masks.end());
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (const auto& [begin, end] : masks) {
    if (end <= copied) continue;
    if (begin >= copied) {
      out.append(text.substr(copied, begin - copied));
      out += kRedacted;
    }
    copied = end;
  }
  out.append(text.substr(std::min(copied, text.size())));
  return out;
}

std::string PercentEncoded(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

struct Secrets {
  absl::Mutex mutex;
  // Longest first, so that a secret holding another is masked whole.
  struct LongestFirst {
    bool operator()(const std::string& a, const std::string& b) const {
      return a.size() != b.size() ? a.size() > b.size() : a < b;
    }
  };
  std::set<std::string, LongestFirst> values ABSL_GUARDED_BY(mutex);
  std::deque<std::string> recent ABSL_GUARDED_BY(mutex);  // Temporary ones, oldest first.
};

Secrets& Registered() {
  static Secrets* secrets =
      new Secrets;  // Never destroyed: threads may log while the process exits.
  return *secrets;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Replaces each `secret` in `text` that stands alone: not inside a longer word or number, so that
// a secret that is also a word ("postgres") masks itself but not "postgresql".
void ReplaceAll(std::string& text, std::string_view secret) {
  for (std::size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + 1)) {
    const std::size_t after = at + secret.size();
    const bool alone =
        (at == 0 || !IsWordChar(text[at - 1]) || !IsWordChar(secret.front())) &&
        (after == text.size() || !IsWordChar(text[after]) || !IsWordChar(secret.back()));
    if (!alone) continue;
    text.replace(at, secret.size(), kRedacted);
    at += kRedacted.size() - 1;
  }
}

// The forms in which `secret` may be shown: as it is, percent-encoded (a URL, a form), escaped in
// a JSON string.
std::vector<std::string> FormsOf(std::string_view secret) {
  const std::string quoted = JsonQuote(secret);
  return {std::string(secret), PercentEncoded(secret), quoted.substr(1, quoted.size() - 2)};
}

}  // namespace

std::string RedactUrl(std::string_view text) {
  std::vector<Range> masks;
  UserinfoPasswords(text, masks);
  SecretParameters(text, masks);
  SecretJsonMembers(text, masks);
  BearerTokens(text, masks);
  if (masks.empty()) return std::string(text);
  return Masked(text, std::move(masks));
}

void RegisterSecret(std::string_view secret) {
  if (secret.size() < kMinRegisteredSecret) return;
  Secrets& secrets = Registered();
  MutexLock lock(&secrets.mutex);
  for (std::string& form : FormsOf(secret)) secrets.values.insert(std::move(form));
}

void RegisterTemporarySecret(std::string_view secret) {
  if (secret.size() < kMinRegisteredSecret) return;
  Secrets& secrets = Registered();
  MutexLock lock(&secrets.mutex);
  for (std::string& form : FormsOf(secret)) secrets.recent.push_back(std::move(form));
  while (secrets.recent.size() > 3 * kRecentSecrets) secrets.recent.pop_front();
}

void RegisterUrlSecrets(std::string_view url) {
  std::vector<Range> masks;
  UserinfoPasswords(url, masks);
  SecretParameters(url, masks);
  for (const auto& [begin, end] : masks) RegisterSecret(url.substr(begin, end - begin));
}

std::string RedactSecrets(std::string_view text) {
  std::string redacted(text);
  {
    Secrets& secrets = Registered();
    MutexLock lock(&secrets.mutex);
    for (const std::string& secret : secrets.values) ReplaceAll(redacted, secret);
    for (const std::string& secret : secrets.recent) ReplaceAll(redacted, secret);
  }
  return RedactUrl(redacted);
}

std::string RemoteText(std::string_view text, std::size_t max_bytes) {
  // Redacted before it is cut, so that no secret is cut into a part that would not match. The
  // slack is longer than any secret held.
  constexpr std::size_t kSlack = 16 * 1024;
  std::string redacted = RedactSecrets(text.substr(0, max_bytes + kSlack));
  for (char& c : redacted) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  while (!redacted.empty() && redacted.back() == ' ')
    redacted.pop_back();  // A body's last newline.
  if (redacted.size() <= max_bytes && text.size() <= max_bytes + kSlack) return redacted;
  std::size_t cut = std::min(max_bytes, redacted.size());
  while (cut > 0 && cut < redacted.size() &&
         (static_cast<unsigned char>(redacted[cut]) & 0xC0) == 0x80)
    --cut;  // Not inside a UTF-8 character.
  redacted.resize(cut);
  return redacted + "…";
}

}  // namespace bikestream

// libFuzzer target: the redaction path over any text (a server's reply, a flag) ends, masks a
// registered secret standing alone, and quotes remote text bounded, on one line.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/redact.h"

namespace {

constexpr std::string_view kSecret = "Fuzz3dSecret";
constexpr std::size_t kQuoted = 64;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool registered = [] {
    bikestream::RegisterSecret(kSecret);
    return true;
  }();
  (void)registered;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)bikestream::RedactUrl(text);
  // Standing alone between spaces, the secret never survives, whatever surrounds it.
  Check(bikestream::RedactSecrets(text + " " + std::string(kSecret) + " " + text)
            .find(std::string(" ") + std::string(kSecret) + " ") == std::string::npos);
  const std::string quoted = bikestream::RemoteText(text, kQuoted);
  Check(quoted.size() <= kQuoted + std::string_view("…").size());
  for (char c : quoted) Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  return 0;
}

// The token an endpoint requires of its requests (the admin endpoint, the console): sent as
// `Authorization: Bearer TOKEN`, compared in time that does not depend on where it differs, so
// that it cannot be guessed a byte at a time.
#pragma once

#include <string_view>

namespace httplib {
struct Request;
}

namespace bikestream {

bool CarriesBearerToken(const httplib::Request& request, std::string_view token);

}  // namespace bikestream

// Reading numbers out of client JSON without undefined behaviour: nlohmann's
// value<int>() converts a float (1e300) or a too-large integer (2^70) before
// any range check could see it, which is undefined for floats and wraps for
// integers (a progress of 4294967346 read as 50). These read the JSON number as
// it is and refuse what is not a whole number inside the range, naming the
// field. Host only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/host/error.h"

namespace updraft::server {

// `body[name]` as an integer in [min, max]; `fallback` when absent (or null).
// kApiBadRequest "name: ..." for a float, a string, or a value out of range.
HostResult<std::int64_t> integer_field(const nlohmann::json& body, std::string_view name,
                                       std::int64_t fallback, std::int64_t min, std::int64_t max);

// The same for a number that may have a fraction (thresholds), finite and in [min, max].
HostResult<double> number_field(const nlohmann::json& body, std::string_view name, double fallback,
                                double min, double max);

// `body[name]` as true or false; `fallback` when absent (or null). kApiBadRequest otherwise.
HostResult<bool> bool_field(const nlohmann::json& body, std::string_view name, bool fallback);

}  // namespace updraft::server

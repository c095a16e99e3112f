#include "server/services/json_fields.h"

#include <cmath>
#include <string>

namespace updraft::server {
namespace {

Error out_of_range(std::string_view name, std::int64_t min, std::int64_t max) {
  return Error(ErrorCode::kApiBadRequest, std::string(name) + ": a whole number from " +
                                              std::to_string(min) + " to " + std::to_string(max));
}

}  // namespace

HostResult<std::int64_t> integer_field(const nlohmann::json& body, std::string_view name,
                                       std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  // Ask the JSON value what it holds before converting anything.
  if (it->is_number_unsigned()) {
    const std::uint64_t v = it->get<std::uint64_t>();
    if (max < 0 || v > static_cast<std::uint64_t>(max)) return out_of_range(name, min, max);
    if (static_cast<std::int64_t>(v) < min) return out_of_range(name, min, max);
    return static_cast<std::int64_t>(v);
  }
  if (it->is_number_integer()) {
    const std::int64_t v = it->get<std::int64_t>();
    if (v < min || v > max) return out_of_range(name, min, max);
    return v;
  }
  return out_of_range(name, min, max);  // a float, text, a list...
}

HostResult<double> number_field(const nlohmann::json& body, std::string_view name, double fallback,
                                double min, double max) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number()) return Error(ErrorCode::kApiBadRequest, std::string(name) + ": a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return Error(ErrorCode::kApiBadRequest, std::string(name) + ": a number from " +
                                                std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

HostResult<bool> bool_field(const nlohmann::json& body, std::string_view name, bool fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    return Error(ErrorCode::kApiBadRequest, std::string(name) + ": true or false");
  return it->get<bool>();
}

}  // namespace updraft::server

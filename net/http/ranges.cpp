#include "net/http/ranges.h"

#include <algorithm>
#include <charconv>

namespace updraft::net::http {
namespace {

bool parse_decimal(std::string_view text, std::uint64_t& value) {
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

RangeKind parse_range(std::string_view header, std::uint64_t size, ByteRange& out) {
  constexpr std::string_view kUnit = "bytes=";
  header = trim(header);
  if (header.substr(0, kUnit.size()) != kUnit) return RangeKind::kWhole;
  const std::string_view spec = trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return RangeKind::kWhole;
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeKind::kWhole;
  const std::string_view first_text = trim(spec.substr(0, dash));
  const std::string_view last_text = trim(spec.substr(dash + 1));
  if (first_text.empty()) {  // "-n": the last n bytes
    std::uint64_t suffix = 0;
    if (!parse_decimal(last_text, suffix)) return RangeKind::kWhole;
    if (suffix == 0 || size == 0) return RangeKind::kUnsatisfiable;
    out.first = size - std::min(suffix, size);
    out.last = size - 1;
    return RangeKind::kPartial;
  }
  std::uint64_t first = 0;
  if (!parse_decimal(first_text, first)) return RangeKind::kWhole;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    if (!parse_decimal(last_text, last) || last < first) return RangeKind::kWhole;
  }
  if (first >= size) return RangeKind::kUnsatisfiable;
  out.first = first;
  out.last = std::min(last, size - 1);
  return RangeKind::kPartial;
}

bool etag_listed(std::string_view list, std::string_view etag) {
  list = trim(list);
  if (list == "*") return true;
  std::size_t at = 0;
  while ((at = list.find(etag, at)) != std::string_view::npos) {
    const std::size_t end = at + etag.size();
    const bool whole = end == list.size() || list[end] == ',' || list[end] == ' ';
    if (whole) return true;
    at = end;
  }
  return false;
}

bool if_range_allows(std::string_view if_range, std::string_view etag) {
  return if_range.empty() || trim(if_range) == etag;
}

}  // namespace updraft::net::http

#include "cli/table.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace updraft::cli {

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  const auto print_row = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(widths[c] - row[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

std::string time_ago(std::int64_t unix_seconds) {
  if (unix_seconds == 0) return "never";
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t s = std::max<std::int64_t>(0, now - unix_seconds);
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 3600) return std::to_string(s / 60) + "m ago";
  if (s < 86400) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  if (items.empty()) return "-";
  std::string out = items.front();
  for (std::size_t i = 1; i < items.size(); ++i) out += separator + items[i];
  return out;
}

void print_page_note(std::size_t offset, std::size_t shown, std::size_t total) {
  if (offset == 0 && shown >= total) return;
  std::printf("(%zu-%zu of %zu, newest first; --offset %zu for the next)\n", shown ? offset + 1 : 0,
              offset + shown, total, offset + shown);
}

std::string utc_time(std::int64_t unix_seconds) {
  if (unix_seconds == 0) return "never";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  char text[40];
  if (::gmtime_r(&t, &parts) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts) == 0) {
    return std::to_string(unix_seconds);
  }
  return text;
}

HostResult<long long> parse_utc_time(const std::string& text, const std::string& option) {
  if (text == "now") return 0LL;
  long long seconds = 0;
  const auto [end_of_number, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end_of_number == text.data() + text.size() && seconds >= 0)
    return seconds;
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%Y-%m-%d %H:%M", &tm);
  if (end == nullptr || *end != '\0')
    return Error(ErrorCode::kApiBadRequest, option +
                                                ": \"YYYY-MM-DD HH:MM\" (UTC), Unix seconds or "
                                                "\"now\", not \"" +
                                                text + "\"");
  return static_cast<long long>(::timegm(&tm));
}

}  // namespace updraft::cli

// `updraft tokens create NAME --role R [--expires-in-days N]`, `updraft tokens list`
// and `updraft tokens revoke ID`: the admin API tokens (all three need an admin
// token). A new token's secret is printed once; a revoked one is refused at once.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/server_connection.h"
#include "cli/table.h"

namespace updraft::cli {
namespace {

using net::http::Method;

struct TokensArgs {
  std::string name;
  std::string role = "viewer";
  std::int64_t expires_in_days = 0;
  long long id = 0;
  bool json_output = false;
};

HostResult<void> create_token(ServerConnection& server, const TokensArgs& args) {
  json body = {{"name", args.name}, {"role", args.role}};
  if (args.expires_in_days != 0) body["expires_in_days"] = args.expires_in_days;
  UPDRAFT_TRY_ASSIGN(const json token, server.send(Method::kPost, "/api/v1/tokens", body));
  std::printf("token %lld \"%s\": role %s, expires %s\n", token.at("id").get<long long>(),
              token.at("name").get<std::string>().c_str(),
              token.at("role").get<std::string>().c_str(),
              utc_time(token.value("expires_at", std::int64_t{0})).c_str());
  std::printf("token: %s\n  (shown once: send it as Authorization: Bearer <token>)\n",
              token.at("token").get<std::string>().c_str());
  return {};
}

HostResult<void> list_tokens(ServerConnection& server, const TokensArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json answer, server.get("/api/v1/tokens"));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& t : answer.at("tokens")) {
    rows.push_back({std::to_string(t.at("id").get<long long>()), t.at("name").get<std::string>(),
                    t.at("role").get<std::string>(), t.value("state", std::string("active")),
                    utc_time(t.value("expires_at", std::int64_t{0})),
                    time_ago(t.value("last_used_at", std::int64_t{0})),
                    time_ago(t.value("created_at", std::int64_t{0}))});
  }
  print_table({"ID", "NAME", "ROLE", "STATE", "EXPIRES", "LAST USED", "CREATED"}, rows);
  return {};
}

HostResult<void> revoke_token(ServerConnection& server, const TokensArgs& args) {
  UPDRAFT_TRY_ASSIGN(
      const json token,
      server.send(Method::kDelete, "/api/v1/tokens/" + std::to_string(args.id), nullptr));
  std::printf("token %lld \"%s\" (%s) revoked at %s\n", token.at("id").get<long long>(),
              token.at("name").get<std::string>().c_str(),
              token.at("role").get<std::string>().c_str(),
              utc_time(token.value("revoked_at", std::int64_t{0})).c_str());
  return {};
}

}  // namespace

void add_tokens_command(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand(
      "tokens", "Create, list and revoke admin API tokens (needs an admin token)");
  group->require_subcommand(1);
  auto args = std::make_shared<TokensArgs>();

  CLI::App* create =
      group->add_subcommand("create", "Create a token and print its secret (shown once)");
  create->add_option("NAME", args->name, "Who or what uses it, e.g. ci or dashboard (1..64)")
      ->required();
  create
      ->add_option("--role", args->role,
                   "viewer reads; operator also changes the fleet; admin also products and tokens")
      ->check(CLI::IsMember({"viewer", "operator", "admin"}))
      ->capture_default_str();
  create
      ->add_option("--expires-in-days", args->expires_in_days,
                   "Refused after this many days; default: never expires")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100 * 365}));
  create->callback([args, server = add_server_options(*create), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return create_token(s, *args); });
  });

  CLI::App* list = group->add_subcommand(
      "list", "List the tokens: role, state (active, expired, revoked), expiry, last use");
  list->add_flag("--json", args->json_output, "Print the server's JSON instead of a table");
  list->callback([args, server = add_server_options(*list), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return list_tokens(s, *args); });
  });

  CLI::App* revoke = group->add_subcommand(
      "revoke", "Revoke a token: refused from the next request on. The last admin token stays.");
  revoke->add_option("ID", args->id, "Token id (see `updraft tokens list`)")->required();
  revoke->callback([args, server = add_server_options(*revoke), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return revoke_token(s, *args); });
  });
}

}  // namespace updraft::cli

#pragma once
// Store-internal: every SQL statement has a name and lives in its repository's .cpp.
// The pool registers them all on each connection (libpqxx prepares lazily).
#include <string>
#include <vector>

namespace weft::server::store {

struct Statement {
  std::string name;
  std::string sql;
};

std::vector<Statement> FlowRepoStatements();
std::vector<Statement> FlowRunRepoStatements();
std::vector<Statement> TaskRunRepoStatements();
std::vector<Statement> AdminRepoStatements();
std::vector<Statement> StorageRepoStatements();
std::vector<Statement> DeploymentRepoStatements();
std::vector<Statement> WorkQueueRepoStatements();
std::vector<Statement> AgentRepoStatements();
std::vector<Statement> LogRepoStatements();
std::vector<Statement> MetricsRepoStatements();
std::vector<Statement> NotificationRepoStatements();
std::vector<Statement> ConcurrencyRepoStatements();
std::vector<Statement> ApiKeyRepoStatements();

const std::vector<Statement>& AllStatements();

}  // namespace weft::server::store

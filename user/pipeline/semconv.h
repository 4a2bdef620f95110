/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every OpenTelemetry semantic-convention name obsprobe writes: span, log record, resource and
 * metric attribute keys, and instrument names. Prometheus renders each with '_' for '.' (and a unit
 * suffix for instruments). One place, so that a rename in the conventions is one edit.
 */
#ifndef OBSPROBE_SEMCONV_H
#define OBSPROBE_SEMCONV_H

#define SC_CLIENT_ADDRESS "client.address"
#define SC_CLIENT_PORT "client.port"

#define SC_DB_CLIENT_CONNECTION_COUNT "db.client.connection.count"
#define SC_DB_CLIENT_CONNECTION_POOL_NAME "db.client.connection.pool.name"
#define SC_DB_CLIENT_CONNECTION_STATE "db.client.connection.state"
#define SC_DB_CLIENT_OPERATION_DURATION "db.client.operation.duration"
#define SC_DB_CLIENT_OPERATION_ERRORS "db.client.operation.errors"
#define SC_DB_COLLECTION_NAME "db.collection.name"
#define SC_DB_NAMESPACE "db.namespace"
#define SC_DB_OPERATION_NAME "db.operation.name"
#define SC_DB_POSTGRESQL_CANCEL_REQUESTED "db.postgresql.cancel_requested"
#define SC_DB_POSTGRESQL_STATEMENT_NAME "db.postgresql.statement.name"
#define SC_DB_QUERY_TEXT "db.query.text"
#define SC_DB_RESPONSE_RETURNED_ROWS "db.response.returned_rows"
#define SC_DB_RESPONSE_STATUS_CODE "db.response.status_code"
#define SC_DB_SYSTEM_NAME "db.system.name"

#define SC_ERROR_TYPE "error.type"

#define SC_EXCEPTION_ESCAPED "exception.escaped"
#define SC_EXCEPTION_MESSAGE "exception.message"
#define SC_EXCEPTION_STACKTRACE "exception.stacktrace"
#define SC_EXCEPTION_TYPE "exception.type"

#define SC_GEN_AI_CLIENT_OPERATION_DURATION "gen_ai.client.operation.duration"
#define SC_GEN_AI_CLIENT_TOKEN_USAGE "gen_ai.client.token.usage"
#define SC_GEN_AI_OPERATION_NAME "gen_ai.operation.name"
#define SC_GEN_AI_REQUEST_MODEL "gen_ai.request.model"
#define SC_GEN_AI_RESPONSE_MODEL "gen_ai.response.model"
#define SC_GEN_AI_SYSTEM "gen_ai.system"
#define SC_GEN_AI_TOKEN_TYPE "gen_ai.token.type"
#define SC_GEN_AI_USAGE_INPUT_TOKENS "gen_ai.usage.input_tokens"
#define SC_GEN_AI_USAGE_OUTPUT_TOKENS "gen_ai.usage.output_tokens"

#define SC_CONTAINER_ID "container.id"
#define SC_HOST_NAME "host.name"

#define SC_HTTP_CLIENT_REQUEST_DURATION "http.client.request.duration"
#define SC_HTTP_REQUEST_METHOD "http.request.method"
#define SC_HTTP_RESPONSE_STATUS_CODE "http.response.status_code"
#define SC_HTTP_ROUTE "http.route"
#define SC_HTTP_SERVER_REQUEST_DURATION "http.server.request.duration"

#define SC_LOG_IOSTREAM "log.iostream"

#define SC_NETWORK_PROTOCOL_VERSION "network.protocol.version"
#define SC_NETWORK_TRANSPORT "network.transport"

#define SC_PROCESS_CONTEXT_SWITCH_TYPE "process.context_switch_type"
#define SC_PROCESS_CONTEXT_SWITCHES "process.context_switches"
#define SC_PROCESS_CPU_TIME "process.cpu.time"
#define SC_PROCESS_EXECUTABLE_NAME "process.executable.name"
#define SC_PROCESS_MEMORY_USAGE "process.memory.usage"
#define SC_PROCESS_PID "process.pid"
#define SC_PROCESS_THREAD_COUNT "process.thread.count"

#define SC_RPC_CLIENT_DURATION "rpc.client.duration"
#define SC_RPC_GRPC_STATUS_CODE "rpc.grpc.status_code"
#define SC_RPC_METHOD "rpc.method"
#define SC_RPC_SERVER_DURATION "rpc.server.duration"
#define SC_RPC_SERVICE "rpc.service"
#define SC_RPC_SYSTEM "rpc.system"

#define SC_SERVER_ADDRESS "server.address"
#define SC_SERVER_PORT "server.port"

#define SC_SERVICE_NAME "service.name"

#define SC_TELEMETRY_SDK_NAME "telemetry.sdk.name"
#define SC_TELEMETRY_SDK_VERSION "telemetry.sdk.version"

#define SC_URL_FULL "url.full"
#define SC_URL_PATH "url.path"
#define SC_URL_QUERY "url.query"
#define SC_URL_SCHEME "url.scheme"

#define SC_USER_AGENT_ORIGINAL "user_agent.original"

#endif /* OBSPROBE_SEMCONV_H */

/* log: the agent's messages for people, one line each on stderr, prefixed
 * with the program's name. stdout carries decisions only. */
#ifndef SIPRESOLVER_AGENT_LOG_H_
#define SIPRESOLVER_AGENT_LOG_H_

#define AGENT_NAME "sipresolver-agent"

void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

#endif /* SIPRESOLVER_AGENT_LOG_H_ */

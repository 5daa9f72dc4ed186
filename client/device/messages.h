/* messages: the sipresolver.v1 messages as the agent uses them (protobuf-c,
 * generated from proto/), with short names, and the few operations
 * protobuf-c lacks: copy, and normalisation to what a proto3 sender sends. */
#ifndef SIPRESOLVER_AGENT_MESSAGES_H_
#define SIPRESOLVER_AGENT_MESSAGES_H_

#include <stddef.h>
#include <stdint.h>

#include "sipresolver/v1/sipresolver.pb-c.h"

typedef Sipresolver__V1__Decision Decision;
typedef Sipresolver__V1__Candidate Candidate;
typedef Sipresolver__V1__Endpoint Endpoint;
typedef Sipresolver__V1__ItspProfile ItspProfile;
typedef Sipresolver__V1__WatchDecisionRequest WatchRequest;

#define STATE_SEARCHING \
  SIPRESOLVER__V1__DECISION_STATE__DECISION_STATE_SEARCHING
#define STATE_ACTIVE SIPRESOLVER__V1__DECISION_STATE__DECISION_STATE_ACTIVE
#define STATE_NO_WORKING_SERVER \
  SIPRESOLVER__V1__DECISION_STATE__DECISION_STATE_NO_WORKING_SERVER
#define STATE_DEVICE_CONTROL \
  SIPRESOLVER__V1__DECISION_STATE__DECISION_STATE_DEVICE_CONTROL
#define ASSURANCE_PROBES SIPRESOLVER__V1__ASSURANCE__ASSURANCE_PROBES
#define ASSURANCE_DEVICE_REPORTS \
  SIPRESOLVER__V1__ASSURANCE__ASSURANCE_DEVICE_REPORTS
#define ASSURANCE_UNCONFIRMED SIPRESOLVER__V1__ASSURANCE__ASSURANCE_UNCONFIRMED

/* A string field's value, "" when absent. */
static inline const char* str_or_empty(const char* s) { return s ? s : ""; }

/* A deep copy (through the wire format); NULL when out of memory. Free with
 * protobuf_c_message_free_unpacked(copy, NULL). */
ProtobufCMessage* message_copy(const ProtobufCMessage* message);
#define decision_copy(d) ((Decision*)message_copy(&(d)->base))
#define candidate_copy(c) ((Candidate*)message_copy(&(c)->base))
void message_free(void* message); /* NULL is fine. */

/* Clears presence from every field at its default value (0, false, "", an
 * enum's 0), in nested messages too: what a proto3 sender would have sent,
 * so printing and comparing see a message built here the same as one from
 * the service. Not for messages with explicit presence (an ItspProfile's
 * `optional bool registration_enabled`: false is not its default). */
void message_normalize(ProtobufCMessage* message);

/* A Decision from the wire; NULL when the bytes are not one. */
Decision* decision_unpack(const uint8_t* data, size_t len);

#endif /* SIPRESOLVER_AGENT_MESSAGES_H_ */

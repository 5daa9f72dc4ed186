// The "reconnect now" contract of WatchDecision, beside the API it belongs
// to (see the rpc's comment in sipresolver.proto).
//
// A replica that shuts down ends every stream with UNAVAILABLE and the
// trailing metadata kReconnectKey: kReconnectNow. An agent seeing it
// reconnects at once (the channel picks another replica) instead of backing
// off. The status message still contains "reconnect" for agents built before
// the metadata existed.
#ifndef SIPRESOLVER_PROTO_SIPRESOLVER_V1_RECONNECT_H_
#define SIPRESOLVER_PROTO_SIPRESOLVER_V1_RECONNECT_H_

namespace sipresolver::v1 {

inline constexpr char kReconnectKey[] = "sipresolver-reconnect";
inline constexpr char kReconnectNow[] = "now";

}  // namespace sipresolver::v1

#endif  // SIPRESOLVER_PROTO_SIPRESOLVER_V1_RECONNECT_H_

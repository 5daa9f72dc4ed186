// The bytes of gRPC's protocol the device agent reads from the network
// (client/device/grpc_wire): message framing across any DATA boundaries, the
// limits, status codes and grpc-message's percent-encoding.
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" {
#include "grpc_wire.h"
}

namespace sipresolver {
namespace {

std::string Frame(const std::string& message) {
  uint8_t prefix[5];
  grpc_frame_prefix(prefix, static_cast<uint32_t>(message.size()));
  return std::string(reinterpret_cast<char*>(prefix), 5) + message;
}

struct Collected {
  std::vector<std::string> messages;
  int stop_after = -1;
};

int Collect(void* arg, const uint8_t* message, size_t len) {
  auto* c = static_cast<Collected*>(arg);
  c->messages.emplace_back(reinterpret_cast<const char*>(message), len);
  return static_cast<int>(c->messages.size()) == c->stop_after;
}

int Feed(grpc_deframer& d, const std::string& bytes, Collected& c) {
  return grpc_deframer_feed(&d, reinterpret_cast<const uint8_t*>(bytes.data()),
                            bytes.size(), Collect, &c);
}

// Messages are not aligned with DATA frames: any split gives the same ones.
TEST(AgentGrpcWireTest, MessagesSurviveEverySplit) {
  const std::string stream = Frame("first") + Frame("") + Frame("third one");
  for (size_t split = 0; split <= stream.size(); ++split) {
    grpc_deframer d = {};
    d.max_message = 100;
    Collected c;
    ASSERT_EQ(Feed(d, stream.substr(0, split), c), GRPC_DEFRAME_OK);
    ASSERT_EQ(Feed(d, stream.substr(split), c), GRPC_DEFRAME_OK);
    EXPECT_EQ(c.messages, (std::vector<std::string>{"first", "", "third one"}))
        << split;
    EXPECT_FALSE(grpc_deframer_partial(&d));
    grpc_deframer_reset(&d);
  }
}

TEST(AgentGrpcWireTest, OversizedAndCompressedMessagesAreRefusedUpFront) {
  grpc_deframer d = {};
  d.max_message = 4;
  Collected c;
  EXPECT_EQ(Feed(d, Frame("12345"), c), GRPC_DEFRAME_TOO_LARGE);
  EXPECT_TRUE(c.messages.empty());
  grpc_deframer_reset(&d);
  // A length of 4 GiB - 1 is refused before any memory is asked for.
  EXPECT_EQ(Feed(d, std::string("\0\xff\xff\xff\xff", 5), c),
            GRPC_DEFRAME_TOO_LARGE);
  grpc_deframer_reset(&d);
  EXPECT_EQ(Feed(d, std::string("\1\0\0\0\1x", 6), c), GRPC_DEFRAME_COMPRESSED);
  grpc_deframer_reset(&d);
}

TEST(AgentGrpcWireTest, HandlerStopsTheStreamAndAPartialMessageShows) {
  grpc_deframer d = {};
  d.max_message = 100;
  Collected c;
  c.stop_after = 1;
  EXPECT_EQ(Feed(d, Frame("a") + Frame("b"), c), GRPC_DEFRAME_STOPPED);
  EXPECT_EQ(c.messages.size(), 1u);
  grpc_deframer_reset(&d);
  c.stop_after = -1;
  EXPECT_EQ(Feed(d, Frame("abc").substr(0, 6), c), GRPC_DEFRAME_OK);
  EXPECT_TRUE(grpc_deframer_partial(&d));
  grpc_deframer_reset(&d);
}

std::string Decode(const std::string& in, size_t out_size = 256) {
  std::vector<char> out(out_size);
  grpc_percent_decode(reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                      out.data(), out.size());
  return out.data();
}

TEST(AgentGrpcWireTest, GrpcMessageIsPercentDecodedAndMadeSafe) {
  EXPECT_EQ(Decode("no%20decisions%3A%20%25"), "no decisions: %");
  EXPECT_EQ(Decode("%E2%9C%93 done"), "\xE2\x9C\x93 done");  // UTF-8 kept.
  EXPECT_EQ(Decode("50%"), "50%");  // Not an escape: kept as it is.
  EXPECT_EQ(Decode("%zz%4"), "%zz%4");
  EXPECT_EQ(Decode("line%0Abreak%1B[31m"), "line?break?[31m");
  EXPECT_EQ(Decode("abcdef", 4), "abc");  // Cut to fit.
}

TEST(AgentGrpcWireTest, StatusCodesAndHttpStatuses) {
  EXPECT_STREQ(grpc_code_name(GRPC_UNAVAILABLE), "UNAVAILABLE");
  EXPECT_STREQ(grpc_code_name(99), "UNKNOWN");
  EXPECT_EQ(grpc_parse_status(reinterpret_cast<const uint8_t*>("14"), 2), 14);
  EXPECT_EQ(grpc_parse_status(reinterpret_cast<const uint8_t*>("1x"), 2), -1);
  EXPECT_EQ(grpc_parse_status(reinterpret_cast<const uint8_t*>(""), 0), -1);
  EXPECT_EQ(grpc_code_from_http(503), GRPC_UNAVAILABLE);
  EXPECT_EQ(grpc_code_from_http(404), GRPC_UNIMPLEMENTED);
  EXPECT_EQ(grpc_code_from_http(401), GRPC_UNAUTHENTICATED);
  EXPECT_EQ(grpc_code_from_http(500), GRPC_UNKNOWN);
}

}  // namespace
}  // namespace sipresolver

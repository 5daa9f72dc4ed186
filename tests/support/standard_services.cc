#include "tests/support/standard_services.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace sipresolver::testing {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

std::string LengthDelimited(int field, const std::string& bytes) {
  std::string out;
  out.push_back(static_cast<char>((field << 3) | 2));
  out.push_back(static_cast<char>(bytes.size()));  // Short fields only.
  return out + bytes;
}

// Sends one message on `method` (unary or bidi: the wire is the same) and
// returns the first response message.
absl::StatusOr<std::string> RawCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  void* tag;
  bool ok;
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1), in;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  call->Write(out, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  call->Read(&in, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  const bool got_response = ok;
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  if (!got_response) return absl::InternalError("no response message");
  std::vector<grpc::Slice> slices;
  in.Dump(&slices);
  std::string bytes;
  for (const auto& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes;
}

// Calls `on_field(number, bytes)` for every length-delimited field and
// `on_varint(number, value)` for every varint field of one message.
template <typename OnBytes, typename OnVarint>
bool ForEachField(const std::string& message, OnBytes on_bytes,
                  OnVarint on_varint) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()),
                      static_cast<int>(message.size()));
  while (uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t v;
        if (!in.ReadVarint64(&v)) return false;
        on_varint(field, v);
        break;
      }
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        std::string bytes;
        uint32_t len;
        if (!in.ReadVarint32(&len) || !in.ReadString(&bytes, len)) return false;
        on_bytes(field, bytes);
        break;
      }
      default:
        if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& service) {
  auto response = RawCall(channel, "/grpc.health.v1.Health/Check",
                          service.empty() ? "" : LengthDelimited(1, service));
  if (!response.ok()) return response.status();
  int status = 0;  // proto3 omits UNKNOWN (0).
  ForEachField(
      *response, [](int, const std::string&) {},
      [&](int field, uint64_t v) {
        if (field == 1) status = static_cast<int>(v);
      });
  return status;
}

absl::StatusOr<std::vector<std::string>> ReflectionListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  // ServerReflectionRequest{list_services = ""} is field 7.
  auto response = RawCall(
      channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      LengthDelimited(7, ""));
  if (!response.ok()) return response.status();
  std::vector<std::string> names;
  // list_services_response (6) { repeated service (1) { name (1) } }
  ForEachField(
      *response,
      [&](int field, const std::string& list) {
        if (field != 6) return;
        ForEachField(
            list,
            [&](int f, const std::string& service) {
              if (f != 1) return;
              ForEachField(
                  service,
                  [&](int n, const std::string& name) {
                    if (n == 1) names.push_back(name);
                  },
                  [](int, uint64_t) {});
            },
            [](int, uint64_t) {});
      },
      [](int, uint64_t) {});
  return names;
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to port ", port));
  }
  std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  send(fd, request.data(), request.size(), 0);
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, n);
  close(fd);
  auto body = reply.find("\r\n\r\n");
  if (!absl::StartsWith(reply, "HTTP/1.") || body == std::string::npos) {
    return absl::DataLossError("not an HTTP response");
  }
  if (reply.find(" 200 ") > reply.find("\r\n")) {
    return absl::UnavailableError(reply.substr(0, reply.find("\r\n")));
  }
  return reply.substr(body + 4);
}

double MetricValue(const std::string& page, const std::string& sample) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (absl::StartsWith(line, sample) && line.size() > sample.size() &&
        line[sample.size()] == ' ') {
      return std::strtod(std::string(line.substr(sample.size() + 1)).c_str(),
                         nullptr);
    }
  }
  return 0;
}

}  // namespace sipresolver::testing

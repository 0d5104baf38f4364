// libFuzzer target for the RTP and RTCP codecs (binding/core/rtp): ParseRtp and the
// extension codecs, HeaderExtensions::Parse, the RTCP compound reader and every typed RTCP
// parser, with round-trip properties (what a parser accepts, the writer writes back and the
// parser reads again unchanged), plus NACK packing and unwrapping properties on the input read
// as 16-bit numbers. Not built by CMake. From the repository root:
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//     -Ibinding/core test/fuzz/rtp_fuzz.cc binding/core/rtp/*.cc -o build/rtp_fuzz
//   mkdir -p build/rtp_corpus && ./build/rtp_fuzz -max_total_time=300 build/rtp_corpus \
//     test/fuzz/corpus/rtp
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "rtp/rtcp_bye.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtcp_nack.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtcp_psfb.h"
#include "rtp/rtcp_remb.h"
#include "rtp/rtcp_report.h"
#include "rtp/rtcp_sdes.h"
#include "rtp/rtcp_twcc.h"
#include "rtp/rtp_extension_codecs.h"
#include "rtp/rtp_header_extensions.h"
#include "rtp/rtp_packet.h"
#include "rtp/unwrap.h"

using namespace kvs;
using namespace kvs::rtp;

namespace {

void Check(bool condition) {
  if (!condition) abort();
}

bool Inside(ByteSpan inner, ByteSpan outer) {
  if (inner.size == 0) return true;
  return inner.data >= outer.data && inner.size <= outer.size &&
         static_cast<size_t>(inner.data - outer.data) <= outer.size - inner.size;
}

bool SameBytes(ByteSpan a, ByteSpan b) {
  return a.size == b.size && (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}

bool HasRepeatedId(const HeaderExtensions& ext) {
  std::set<uint8_t> ids;
  for (size_t i = 0; i < ext.size(); ++i) {
    if (!ids.insert(ext[i].id).second) return true;
  }
  return false;
}

bool SameExtensions(const HeaderExtensions& a, const HeaderExtensions& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || !SameBytes(a[i].data, b[i].data)) return false;
  }
  return true;
}

void FuzzExtensions(const HeaderExtensions& ext) {
  for (size_t i = 0; i < ext.size(); ++i) {
    (void)ParseAbsSendTime(ext[i].data);
    (void)ParseTransportSequenceNumber(ext[i].data);
    (void)ParseSdesExtension(ext[i].data);
  }
}

// What ParseRtp accepts, WriteRtpPacket writes back (when the block is RFC 8285 and has no
// repeated id, which the writer refuses), and ParseRtp reads again equal.
void RoundTripRtp(const RtpPacketView& p) {
  if (p.hasExtension && !IsOneByteExtensionProfile(p.extensionProfile) &&
      !IsTwoByteExtensionProfile(p.extensionProfile)) {
    return;  // another profile's block: the writer only writes RFC 8285
  }
  std::array<uint32_t, kMaxCsrcs> csrcs{};
  for (size_t i = 0; i < p.csrcCount; ++i) csrcs[i] = p.csrc(i);
  std::array<HeaderExtension, HeaderExtensions::kCapacity> ext{};
  for (size_t i = 0; i < p.extensions.size(); ++i) ext[i] = p.extensions[i];
  RtpHeader h;
  h.marker = p.marker;
  h.payloadType = p.payloadType;
  h.sequenceNumber = p.sequenceNumber;
  h.timestamp = p.timestamp;
  h.ssrc = p.ssrc;
  h.csrcs = ArrayView<uint32_t>(csrcs.data(), p.csrcCount);
  h.extensions = ArrayView<HeaderExtension>(ext.data(), p.extensions.size());
  h.paddingSize = p.paddingSize;
  std::vector<uint8_t> out;
  ByteWriter w(out);
  const Status s = WriteRtpPacket(h, p.payload, w);
  if (!s.ok()) {
    Check(HasRepeatedId(p.extensions));
    return;
  }
  // The same through the raw-pointer writer.
  std::vector<uint8_t> raw(out.size());
  auto n = WriteRtpPacket(h, p.payload, raw.data(), raw.size());
  Check(n.ok() && n.value() == out.size() && raw == out);
  Check(!WriteRtpPacket(h, p.payload, raw.data(), raw.size() - 1).ok());

  auto again = ParseRtp(out);
  Check(again.ok());
  const RtpPacketView& q = again.value();
  Check(q.marker == p.marker && q.payloadType == p.payloadType &&
        q.sequenceNumber == p.sequenceNumber && q.timestamp == p.timestamp && q.ssrc == p.ssrc);
  Check(q.csrcCount == p.csrcCount);
  for (size_t i = 0; i < p.csrcCount; ++i) Check(q.csrc(i) == p.csrc(i));
  Check(SameExtensions(q.extensions, p.extensions));
  Check(q.hasExtension == !p.extensions.empty());
  Check(SameBytes(q.payload, p.payload));
  Check(q.paddingSize == p.paddingSize);
}

// Two views parsed from the same bytes, one fresh and one reused from earlier inputs.
bool SameView(const RtpPacketView& a, const RtpPacketView& b) {
  return a.marker == b.marker && a.payloadType == b.payloadType &&
         a.sequenceNumber == b.sequenceNumber && a.timestamp == b.timestamp && a.ssrc == b.ssrc &&
         a.csrcCount == b.csrcCount && SameBytes(a.csrcBytes, b.csrcBytes) &&
         a.hasExtension == b.hasExtension && a.extensionProfile == b.extensionProfile &&
         SameBytes(a.extensionBody, b.extensionBody) &&
         SameExtensions(a.extensions, b.extensions) && a.headerSize == b.headerSize &&
         SameBytes(a.payload, b.payload) && a.paddingSize == b.paddingSize &&
         a.packet.size == b.packet.size;
}

void FuzzRtp(ByteSpan in) {
  auto r = ParseRtp(in);
  static RtpPacketView reused;  // keeps whatever the previous input left in it
  const Status s = ParseRtp(in, &reused);
  Check(s.ok() == r.ok() && s.code() == r.status().code());
  if (!r.ok()) {
    Check(!r.status().code().empty());
    return;
  }
  const RtpPacketView& p = r.value();
  Check(SameView(p, reused));
  Check(p.headerSize + p.payload.size + p.paddingSize == in.size);
  Check(Inside(p.payload, in) && Inside(p.extensionBody, in) && Inside(p.csrcBytes, in));
  Check(p.paddingOnly() == (p.paddingSize != 0 && p.payload.size == 0));
  for (size_t i = 0; i < p.extensions.size(); ++i) Check(Inside(p.extensions[i].data, in));
  FuzzExtensions(p.extensions);
  RoundTripRtp(p);
}

// A block parsed on its own, with the profile taken from the first two bytes.
void FuzzExtensionBlock(ByteSpan in) {
  if (in.size < 2) return;
  const auto profile = static_cast<uint16_t>(in.data[0] << 8 | in.data[1]);
  const ByteSpan body = in.sub(2, in.size - 2);
  auto r = HeaderExtensions::Parse(profile, body);
  if (!r.ok()) return;
  const HeaderExtensions& ext = r.value();
  std::array<HeaderExtension, HeaderExtensions::kCapacity> elements{};
  for (size_t i = 0; i < ext.size(); ++i) {
    elements[i] = ext[i];
    Check(Inside(ext[i].data, body));
  }
  const ArrayView<HeaderExtension> view(elements.data(), ext.size());
  auto form = ResolveExtensionForm(view, ExtensionForm::kAuto);
  if (!form.ok()) {
    Check(HasRepeatedId(ext));
    return;
  }
  std::vector<uint8_t> block(HeaderExtensionBlockSize(view, form.value()));
  Check(WriteHeaderExtensionBlock(view, form.value(), block.data()) == block.size());
  if (block.empty()) {
    Check(ext.empty());
    return;
  }
  Check(block.size() % 4 == 0);
  const auto written = static_cast<uint16_t>(block[0] << 8 | block[1]);
  auto again = HeaderExtensions::Parse(written, ByteSpan(block).sub(4, block.size() - 4));
  Check(again.ok() && SameExtensions(again.value(), ext));
}

// Parse, write, parse: equal. `parse` and the packet's WriteRtcp overload come from the type.
template <typename T, typename Parse>
void RoundTripRtcp(const RtcpPacketView& p, Parse parse, RtcpCompoundBuilder& all) {
  auto first = parse(p);
  if (!first.ok()) {
    Check(!first.status().code().empty());
    return;
  }
  std::vector<uint8_t> out;
  ByteWriter w(out);
  Check(WriteRtcp(first.value(), w).ok());
  auto framed = ParseRtcpPacket(out);
  Check(framed.ok() && framed.value().packet.size == out.size());
  auto second = parse(framed.value());
  Check(second.ok());
  Check(second.value() == first.value());
  Check(all.Add(first.value()).ok());
}

void FuzzRtcp(ByteSpan in) {
  RtcpReader reader(in);
  RtcpPacketView p;
  RtcpCompoundBuilder all(RtcpMode::kReducedSize);
  size_t total = 0;
  size_t packets = 0;
  while (reader.Next(&p)) {
    Check(Inside(p.packet, in) && Inside(p.body, p.packet));
    Check(p.packet.data == in.data + total);  // contiguous, in order
    Check(p.packet.size >= kRtcpHeaderSize && p.packet.size % 4 == 0);
    total += p.packet.size;
    ++packets;
    (void)ParseFeedbackHeader(p);
    (void)IsRemb(p);
    RoundTripRtcp<SenderReport>(p, ParseSenderReport, all);
    RoundTripRtcp<ReceiverReport>(p, ParseReceiverReport, all);
    RoundTripRtcp<Sdes>(p, ParseSdes, all);
    RoundTripRtcp<Bye>(p, ParseBye, all);
    RoundTripRtcp<Nack>(p, ParseNack, all);
    RoundTripRtcp<TransportFeedback>(p, ParseTransportFeedback, all);
    RoundTripRtcp<Pli>(p, ParsePli, all);
    RoundTripRtcp<Fir>(p, ParseFir, all);
    RoundTripRtcp<Remb>(p, ParseRemb, all);
  }
  Check(total <= in.size);
  const bool framed = reader.status().ok();
  Check(framed == (total == in.size));
  Check(ValidateRtcpCompound(in, RtcpMode::kReducedSize).ok() == (framed && in.size > 0));
  if (!ValidateRtcpCompound(in, RtcpMode::kCompound).ok()) {
    // fine: most inputs are not full compounds
  } else {
    Check(framed && packets > 0);
  }
  if (!all.empty()) {
    auto rebuilt = all.Finish();
    Check(rebuilt.ok());
  }
}

// The input as big-endian 16-bit numbers: NACK packing names each once, and unwrapping keeps
// the low bits and moves by the shortest distance.
void FuzzSequenceNumbers(ByteSpan in) {
  std::vector<uint16_t> seqs;
  for (size_t i = 0; i + 1 < in.size && seqs.size() < 512; i += 2) {
    seqs.push_back(static_cast<uint16_t>(in.data[i] << 8 | in.data[i + 1]));
  }
  const auto back = UnpackNack(PackNack(seqs));
  Check(std::set<uint16_t>(back.begin(), back.end()) ==
        std::set<uint16_t>(seqs.begin(), seqs.end()));
  Check(back.size() == std::set<uint16_t>(back.begin(), back.end()).size());
  SeqUnwrapper u;
  for (uint16_t s : seqs) {
    const bool had = u.hasLast();
    const int64_t before = u.last();
    const int64_t now = u.Unwrap(s);
    Check(static_cast<uint16_t>(now) == s);
    if (had) {
      Check(now - before == SeqDelta(s, static_cast<uint16_t>(before)));
      Check((now > before) == SeqNewer(s, static_cast<uint16_t>(before)));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  FuzzRtp(in);
  FuzzExtensionBlock(in);
  FuzzRtcp(in);
  FuzzSequenceNumbers(in);
  return 0;
}

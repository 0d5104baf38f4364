// Key-frame requests: PLI or FIR by what was negotiated, rate limited, repeated until a key
// frame arrives, FIR command sequence numbers incrementing.
#include "media/key_frame_requester.h"

#include <doctest/doctest.h>

#include <climits>

using namespace kvs::media;

TEST_CASE("KeyFrameRequester: PLI at once, repeated every 200 ms at start, 300 ms after") {
  KeyFrameRequester r({true, true, 1, 2, 300'000, 200'000});
  CHECK_FALSE(r.Poll(0).has_value());  // nothing asked
  r.Request(KeyFrameRequestReason::kStart, 1000);
  auto p = r.Poll(1000);
  REQUIRE(p.has_value());
  CHECK_FALSE(p->fir);  // PLI preferred when both were negotiated
  CHECK(p->pli.senderSsrc == 1);
  CHECK(p->pli.mediaSsrc == 2);
  CHECK(p->reason == KeyFrameRequestReason::kStart);
  r.Request(KeyFrameRequestReason::kStart, 2000);  // asked again: still one pending
  CHECK_FALSE(r.Poll(2000).has_value());
  CHECK_FALSE(r.Poll(200'999).has_value());
  CHECK(r.Poll(201'000).has_value());  // no key frame yet: again after 200 ms
  CHECK(r.NextUs() == 401'000);
  r.OnKeyFrame();
  CHECK_FALSE(r.pending());
  CHECK(r.NextUs() == INT64_MAX);
  CHECK_FALSE(r.Poll(1'000'000).has_value());
  // After the first key frame the rate is 300 ms, and the app's request does not bypass it.
  r.Request(KeyFrameRequestReason::kApp, 1'000'000);
  CHECK(r.Poll(1'000'000).has_value());
  r.Request(KeyFrameRequestReason::kApp, 1'100'000);
  CHECK_FALSE(r.Poll(1'100'000).has_value());
  CHECK_FALSE(r.Poll(1'299'999).has_value());
  CHECK(r.Poll(1'300'000).has_value());
  CHECK(r.pliSent() == 4);
  CHECK(r.requests() == 2);
}

TEST_CASE("KeyFrameRequester: FIR when only FIR was negotiated, numbers incrementing") {
  KeyFrameRequester r({false, true, 1, 2, 300'000, 200'000});
  r.Request(KeyFrameRequestReason::kFrameDropped, 0);
  for (int i = 0; i < 260; ++i) {
    auto p = r.Poll(int64_t(i) * 200'000);
    REQUIRE(p.has_value());
    REQUIRE(p->fir);
    CHECK(p->firPacket.senderSsrc == 1);
    REQUIRE(p->firPacket.entries.size() == 1);
    CHECK(p->firPacket.entries[0].ssrc == 2);
    CHECK(p->firPacket.entries[0].sequenceNumber == static_cast<uint8_t>(i));  // wraps at 256
  }
  CHECK(r.firSent() == 260);
}

TEST_CASE("KeyFrameRequester: nothing negotiated, nothing sent") {
  KeyFrameRequester r({false, false, 1, 2, 300'000, 200'000});
  r.Request(KeyFrameRequestReason::kApp, 0);
  CHECK_FALSE(r.canRequest());
  CHECK_FALSE(r.Poll(0).has_value());
  CHECK(r.NextUs() == INT64_MAX);
}

TEST_CASE("KeyFrameRequester: a sender silent for 5 s is not asked; asked again once it sends") {
  KeyFrameRequester r({true, false, 1, 2, 300'000, 200'000});
  r.OnPacket(0);
  r.OnKeyFrame();
  r.Request(KeyFrameRequestReason::kNoDecodableFrame, 1'000'000);
  CHECK(r.Poll(1'000'000).has_value());
  CHECK(r.Poll(4'900'000).has_value());        // silent 4.9 s: still asked
  CHECK_FALSE(r.Poll(5'200'000).has_value());  // due, but silent 5.2 s: not any more
  CHECK(r.suppressedWhileInactive() == 1);
  CHECK(r.NextUs() == INT64_MAX);  // nothing to wake for until a packet comes
  CHECK_FALSE(r.Poll(60'000'000).has_value());
  CHECK(r.pending());  // the request is kept
  r.OnPacket(61'000'000);
  CHECK(r.Poll(61'000'000).has_value());  // packets again: asked at once
  CHECK(r.pliSent() == 3);
}

TEST_CASE("KeyFrameRequester: before any packet, the start requests go out") {
  KeyFrameRequester r({true, false, 1, 2, 300'000, 200'000});
  r.Request(KeyFrameRequestReason::kStart, 10'000'000);
  CHECK(r.Poll(10'000'000).has_value());
  CHECK(r.Poll(10'200'000).has_value());
}

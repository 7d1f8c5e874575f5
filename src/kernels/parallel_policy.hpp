// When a kernel's work is worth a parallel region. Each kernel states the size from which two
// threads beat one when the OpenMP threads spin between regions (a region then costs ~0.5 us);
// the threshold stretches when the threads sleep instead.
#pragma once

#include <cstddef>

namespace actlab {

// True when there is more than one OpenMP thread, the caller is not already inside an active
// parallel region, and `work` reaches `spinning_threshold`, times 32 when OMP_WAIT_POLICY is passive. Waking sleeping threads cost 50-90 us per region on the
// development VM (an empty region: 50 us passive, 0.7 us spinning): relu at 256K floats took 65 us on two
// threads against 24 us on one, and two threads first won at about 1M floats for relu, 512K for
// sigmoid and 256K for exact gelu, 32x the spinning thresholds.
bool worth_parallel(double work, double spinning_threshold);

}  // namespace actlab

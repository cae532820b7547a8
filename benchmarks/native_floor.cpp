// Model (c) as a bare C++ event loop: what a native core with small structs costs per request
// as the topology grows (benchmarks/run.py builds and runs it; docs/engine.md, "A sixth round").
//
// K single-worker app replicas behind a random balancer, each with a FIFO queue, then one
// database with 2K workers; exponential work (3.5 ms, 7 ms), Poisson arrivals at 225K per
// second, so every station has model (c)'s utilization whatever K is. Three events per
// request and no resilience, metrics or histograms: a floor, not a port.
//
//   native_floor K REQUESTS calendar|heap [REQUEST_BYTES]
//
// `calendar` keeps events in a calendar queue of 40-byte structs (R. Brown, CACM 1988), sized
// from the load as ScaleSim's settles; `heap` in a binary heap (std::priority_queue).
// REQUEST_BYTES (default 16) spaces the requests out, each event writing the request's first
// and last bytes: 232 is the size of the kernel's frame.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <vector>

namespace {

enum Kind : uint32_t { ARRIVAL, APP_DONE, DB_DONE };

struct Event {
    double t;
    uint64_t seq;  // ties in time go first-in-first-out
    int64_t day;   // calendar only
    int32_t next;  // calendar only: the next slot in the same bucket
    uint32_t kind;
    uint32_t request;
};

bool before(const Event& a, const Event& b) {
    return a.t < b.t || (a.t == b.t && a.seq < b.seq);
}

struct Later {
    bool operator()(const Event& a, const Event& b) const { return before(b, a); }
};

class Heap {
  public:
    void push(const Event& e) { heap_.push(e); }
    Event pop() {
        Event e = heap_.top();
        heap_.pop();
        return e;
    }
    bool empty() const { return heap_.empty(); }

  private:
    std::priority_queue<Event, std::vector<Event>, Later> heap_;
};

class Calendar {
  public:
    Calendar(int64_t buckets, double width)
        : first_(buckets, -1), last_(buckets, -1), mask_(buckets - 1), per_day_(1.0 / width) {}

    void push(Event e) {
        e.day = static_cast<int64_t>(e.t * per_day_);
        e.next = -1;
        int32_t slot;
        if (free_.empty()) {
            slot = static_cast<int32_t>(slots_.size());
            slots_.push_back(e);
        } else {
            slot = free_.back();
            free_.pop_back();
            slots_[slot] = e;
        }
        ++size_;
        const int64_t b = e.day & mask_;
        if (last_[b] < 0) {
            first_[b] = last_[b] = slot;
        } else if (before(slots_[last_[b]], e)) {  // the usual case: it goes last
            slots_[last_[b]].next = slot;
            last_[b] = slot;
        } else {
            int32_t prev = -1, at = first_[b];
            while (before(slots_[at], e)) {
                prev = at;
                at = slots_[at].next;
            }
            slots_[slot].next = at;
            (prev < 0 ? first_[b] : slots_[prev].next) = slot;
        }
    }

    Event pop() {  // not empty
        for (;; ++today_) {
            const int64_t b = today_ & mask_;
            const int32_t slot = first_[b];
            if (slot >= 0 && slots_[slot].day <= today_) {
                first_[b] = slots_[slot].next;
                if (first_[b] < 0) last_[b] = -1;
                free_.push_back(slot);
                --size_;
                return slots_[slot];
            }
        }
    }

    bool empty() const { return size_ == 0; }

  private:
    std::vector<Event> slots_;
    std::vector<int32_t> free_, first_, last_;
    int64_t mask_, today_ = 0, size_ = 0;
    double per_day_;
};

class Fifo {  // a ring of request indices that doubles when full
  public:
    void push(uint32_t x) {
        if (size_ == items_.size()) {
            std::vector<uint32_t> bigger(items_.empty() ? 8 : 2 * items_.size());
            for (size_t i = 0; i < size_; ++i) bigger[i] = items_[(head_ + i) % items_.size()];
            items_.swap(bigger);
            head_ = 0;
        }
        items_[(head_ + size_) % items_.size()] = x;
        ++size_;
    }
    uint32_t pop() {
        const uint32_t x = items_[head_];
        head_ = (head_ + 1) % items_.size();
        --size_;
        return x;
    }
    bool empty() const { return size_ == 0; }

  private:
    std::vector<uint32_t> items_;
    size_t head_ = 0, size_ = 0;
};

struct Request {  // 16 bytes, at the start of each request's REQUEST_BYTES
    double t0;
    uint32_t replica;
    uint32_t next_free;
};

class Requests {  // a pool of requests REQUEST_BYTES apart, with a free list
  public:
    explicit Requests(size_t bytes) : stride_((bytes + 7) / 8 * 8) {}
    Request& operator[](uint32_t r) {
        return *reinterpret_cast<Request*>(&bytes_[static_cast<size_t>(r) * stride_]);
    }
    void touch(uint32_t r) { ++bytes_[static_cast<size_t>(r) * stride_ + stride_ - 1]; }
    uint32_t take() {
        if (free_ == UINT32_MAX) {
            bytes_.resize(bytes_.size() + stride_);
            return static_cast<uint32_t>(bytes_.size() / stride_ - 1);
        }
        const uint32_t r = free_;
        free_ = (*this)[r].next_free;
        return r;
    }
    void give_back(uint32_t r) {
        (*this)[r].next_free = free_;
        free_ = r;
    }

  private:
    size_t stride_;
    std::vector<unsigned char> bytes_;
    uint32_t free_ = UINT32_MAX;
};

struct Replica {
    bool busy = false;
    Fifo waiting;
};

template <class Agenda>
double run(Agenda& agenda, int replicas, long requests, size_t request_bytes, double* mean_ms) {
    const double rate = 225.0 * replicas;
    std::mt19937_64 rng(1);
    std::exponential_distribution<double> gap(rate), app(1 / 0.0035), db(1 / 0.007);
    std::uniform_int_distribution<int> pick(0, replicas - 1);
    std::vector<Replica> app_replicas(replicas);
    Requests pool(request_bytes);
    const int db_workers = 2 * replicas;
    int db_busy = 0;
    Fifo db_waiting;
    uint64_t seq = 0;
    auto schedule = [&](double t, uint32_t kind, uint32_t request) {
        agenda.push(Event{t, seq++, 0, -1, kind, request});
    };
    const auto start = std::chrono::steady_clock::now();
    long sent = 0, done = 0;
    double total_s = 0;
    schedule(gap(rng), ARRIVAL, 0);
    while (!agenda.empty()) {
        const Event e = agenda.pop();
        if (e.kind == ARRIVAL) {
            if (++sent < requests) schedule(e.t + gap(rng), ARRIVAL, 0);
            const uint32_t r = pool.take();
            const int k = pick(rng);
            pool[r] = Request{e.t, static_cast<uint32_t>(k), 0};
            pool.touch(r);
            Replica& replica = app_replicas[k];
            if (replica.busy) {
                replica.waiting.push(r);
            } else {
                replica.busy = true;
                schedule(e.t + app(rng), APP_DONE, r);
            }
        } else if (e.kind == APP_DONE) {
            Replica& replica = app_replicas[pool[e.request].replica];
            pool.touch(e.request);
            if (replica.waiting.empty()) {
                replica.busy = false;
            } else {
                schedule(e.t + app(rng), APP_DONE, replica.waiting.pop());
            }
            if (db_busy < db_workers) {
                ++db_busy;
                schedule(e.t + db(rng), DB_DONE, e.request);
            } else {
                db_waiting.push(e.request);
            }
        } else {
            total_s += e.t - pool[e.request].t0;
            ++done;
            pool.touch(e.request);
            pool.give_back(e.request);
            if (db_waiting.empty()) {
                --db_busy;
            } else {
                schedule(e.t + db(rng), DB_DONE, db_waiting.pop());
            }
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    *mean_ms = 1e3 * total_s / static_cast<double>(done);
    return static_cast<double>(done) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: native_floor K REQUESTS calendar|heap [REQUEST_BYTES]\n");
        return 2;
    }
    const int replicas = std::atoi(argv[1]);
    const long requests = std::atol(argv[2]);
    const size_t request_bytes = argc == 5 ? std::strtoul(argv[4], nullptr, 10) : 16;
    double rate = 0, mean_ms = 0;
    if (std::strcmp(argv[3], "heap") == 0) {
        Heap heap;
        rate = run(heap, replicas, requests, request_bytes, &mean_ms);
    } else {
        // Two buckets per pending event (about 2.5 events per request in flight, 26 ms in
        // flight), days as long as the mean gap between arrivals: about one event per day.
        const double pending = 2.5 * 225.0 * replicas * 0.026;
        int64_t buckets = 16;
        while (buckets < 2 * pending) buckets *= 2;
        Calendar calendar(buckets, 1.0 / (225.0 * replicas));
        rate = run(calendar, replicas, requests, request_bytes, &mean_ms);
    }
    std::printf("%.0f %.4f\n", rate, mean_ms);
    return 0;
}

#!/usr/bin/env python3
"""A small Raft node speaking raftsim's node protocol (docs/protocol.md) on stdin/stdout.

Leader election, log replication, commitment (Raft paper, sections 5.1-5.4), durable term, vote
and log, recovery from a corrupted disk value. No membership change, no snapshots, no reads of
its own (reads go through the log). It never reads a clock or a random source of its own: time
comes with every event, and its random stream is seeded by `init`.

One event per line in, effects out, then {"type": "done"}.
"""
import json
import random
import sys


def is_corrupted(value):
    return isinstance(value, dict) and value.get("$corrupted") is True


class Node:
    def __init__(self, init, out):
        self.out = out
        self.id = init["id"]
        self.members = list(init["members"])
        self.peers = [n for n in self.members if n != self.id]
        timing = init["timing"]
        self.eto_min = timing["electionTimeoutMinMs"]
        self.eto_max = timing["electionTimeoutMaxMs"]
        self.heartbeat_ms = timing["heartbeatMs"]
        self.rng = random.Random(init["seed"])
        self.now = init["now"]
        self.next_timer = 1
        self.election_timer = None
        self.heartbeat_timer = None

        storage = init["storage"]
        self.term, self.voted_for, self.no_vote = 0, None, False
        copies = [storage.get("hs/a"), storage.get("hs/b")]
        good = [c for c in copies if isinstance(c, dict) and not is_corrupted(c)]
        if good:
            best = max(good, key=lambda c: c["term"])  # both are written together; the later one wins
            self.term, self.voted_for = best["term"], best["vote"]
        elif any(is_corrupted(c) for c in copies):
            self.no_vote = True  # we cannot know where we voted: never vote again
        if is_corrupted(storage.get("novote")) or storage.get("novote"):
            self.no_vote = True
        # The log: one key per entry. A corrupted entry truncates the log there; since entries
        # at and after it may have counted towards a commit, we refuse to vote (and so to let a
        # candidate without them win with our help) until a leader has refilled that far.
        keys = sorted(k for k in storage if k.startswith("log/"))
        self.log = []  # [term, command], index = position + 1
        self.recover_until = 0
        for i, key in enumerate(keys):
            entry = storage[key]
            if int(key[4:]) != i + 1 or is_corrupted(entry):
                self.recover_until = int(keys[-1][4:])
                for stale in keys[i:]:
                    self.emit({"type": "delete", "key": stale})
                break
            self.log.append(entry)
        if self.recover_until:
            self.emit({"type": "put", "key": "recover", "value": self.recover_until})
        stored_recover = storage.get("recover")
        if isinstance(stored_recover, int):
            self.recover_until = max(self.recover_until, stored_recover)
        elif is_corrupted(stored_recover):
            self.no_vote = True
        if self.log and self.log[-1][0] > self.term:
            self.term = self.log[-1][0]
        self.role = "follower"
        self.leader = None
        self.commit = 0
        self.applied = 0
        self.votes = set()
        self.next_index = {}
        self.match_index = {}
        self.dirty_from = 0  # lowest log index changed since the last view (0: everything)
        self.persist_hard_state()
        self.sync()
        self.reset_election_timer()

    # -- effects ------------------------------------------------------------------------------
    def emit(self, effect):
        self.out.append(effect)

    def send(self, to, body):
        self.emit({"type": "send", "to": to, "body": body})

    def set_timer(self, ms):
        timer = self.next_timer
        self.next_timer += 1
        self.emit({"type": "set_timer", "id": timer, "ms": ms})
        return timer

    def clear_timer(self, timer):
        if timer is not None:
            self.emit({"type": "clear_timer", "id": timer})

    def persist_hard_state(self):
        value = {"term": self.term, "vote": self.voted_for}
        self.emit({"type": "put", "key": "hs/a", "value": value})
        self.emit({"type": "put", "key": "hs/b", "value": value})

    def sync(self):
        self.emit({"type": "sync"})

    def view(self):
        start = self.dirty_from
        self.dirty_from = len(self.log)
        return {
            "type": "view", "role": self.role, "term": self.term, "voted_for": self.voted_for,
            "commit_index": self.commit, "members": self.members,
            "log": {"snapshot_index": 0, "snapshot_term": 0, "last_index": len(self.log),
                    "from": start, "entries": self.log[start:]},
        }

    # -- log ----------------------------------------------------------------------------------
    def last_index(self):
        return len(self.log)

    def term_at(self, index):
        return 0 if index == 0 else self.log[index - 1][0]

    def append(self, entries, after):
        """Puts `entries` after index `after`, truncating a conflicting suffix; persists."""
        for offset, entry in enumerate(entries):
            index = after + offset + 1
            if index <= len(self.log):
                if self.log[index - 1][0] == entry[0]:
                    continue
                for stale in range(index, len(self.log) + 1):
                    self.emit({"type": "delete", "key": "log/%010d" % stale})
                del self.log[index - 1:]
                self.dirty_from = min(self.dirty_from, index - 1)
            self.log.append(entry)
            self.emit({"type": "put", "key": "log/%010d" % index, "value": entry})
        if self.recover_until and len(self.log) >= self.recover_until:
            self.recover_until = 0
            self.emit({"type": "delete", "key": "recover"})

    # -- roles --------------------------------------------------------------------------------
    def reset_election_timer(self):
        self.clear_timer(self.election_timer)
        self.election_timer = self.set_timer(self.rng.uniform(self.eto_min, self.eto_max))

    def become_follower(self, term, leader=None):
        if term > self.term:
            self.term, self.voted_for = term, None
            self.persist_hard_state()
        if self.role == "leader":
            self.clear_timer(self.heartbeat_timer)
            self.heartbeat_timer = None
        self.role = "follower"
        self.leader = leader

    def campaign(self):
        if self.no_vote or self.recover_until or self.id not in self.members:
            self.reset_election_timer()
            return
        self.role = "candidate"
        self.term += 1
        self.voted_for = self.id
        self.leader = None
        self.votes = {self.id}
        self.persist_hard_state()
        self.sync()
        self.reset_election_timer()
        for peer in self.peers:
            self.send(peer, {"type": "rv", "term": self.term, "last_index": self.last_index(),
                             "last_term": self.term_at(self.last_index())})
        self.maybe_win()

    def maybe_win(self):
        if self.role == "candidate" and len(self.votes) * 2 > len(self.members):
            self.role = "leader"
            self.leader = self.id
            self.clear_timer(self.election_timer)
            self.election_timer = None
            self.next_index = {p: self.last_index() + 1 for p in self.peers}
            self.match_index = {p: 0 for p in self.peers}
            self.append([[self.term, {"noop": self.term}]], self.last_index())
            self.sync()
            self.broadcast()
            self.heartbeat_timer = self.set_timer(self.heartbeat_ms)
            self.advance_commit()

    def broadcast(self):
        for peer in self.peers:
            self.replicate(peer)

    def replicate(self, peer):
        prev = self.next_index[peer] - 1
        entries = self.log[prev:prev + 64]
        self.send(peer, {"type": "ae", "term": self.term, "prev_index": prev,
                         "prev_term": self.term_at(prev), "entries": entries, "commit": self.commit})

    def advance_commit(self):
        for n in range(self.last_index(), self.commit, -1):
            if self.term_at(n) != self.term:
                break
            count = 1 + sum(1 for p in self.peers if self.match_index.get(p, 0) >= n)
            if count * 2 > len(self.members):
                self.set_commit(n)
                break

    def set_commit(self, index):
        if index <= self.commit:
            return
        self.commit = index
        while self.applied < self.commit:
            self.applied += 1
            self.emit({"type": "apply", "index": self.applied, "command": self.log[self.applied - 1][1]})

    # -- events -------------------------------------------------------------------------------
    def on_timer(self, timer):
        if timer == self.election_timer:
            self.election_timer = None
            self.campaign()
        elif timer == self.heartbeat_timer and self.role == "leader":
            self.broadcast()
            self.heartbeat_timer = self.set_timer(self.heartbeat_ms)

    def on_message(self, sender, m):
        term = m["term"]
        if term > self.term:
            self.become_follower(term)
        kind = m["type"]
        if kind == "rv":
            up_to_date = (m["last_term"], m["last_index"]) >= (self.term_at(self.last_index()), self.last_index())
            granted = (term == self.term and not self.no_vote and not self.recover_until
                       and self.voted_for in (None, sender) and up_to_date)
            if granted:
                self.voted_for = sender
                self.persist_hard_state()
                self.reset_election_timer()
            self.sync()
            self.send(sender, {"type": "rvr", "term": self.term, "granted": granted})
        elif kind == "rvr":
            if term == self.term and self.role == "candidate" and m["granted"]:
                self.votes.add(sender)
                self.maybe_win()
        elif kind == "ae":
            if term < self.term:
                self.send(sender, {"type": "aer", "term": self.term, "success": False, "match": 0, "prev": m["prev_index"], "hint": 0})
                return
            if self.role != "follower" or self.leader != sender:
                self.become_follower(term, sender)
            self.leader = sender
            self.reset_election_timer()
            prev = m["prev_index"]
            if prev > self.last_index() or self.term_at(prev) != m["prev_term"]:
                hint = min(prev, self.last_index() + 1)
                self.send(sender, {"type": "aer", "term": self.term, "success": False, "match": 0, "prev": prev, "hint": max(hint, 1)})
                return
            self.append(m["entries"], prev)
            self.sync()
            match = prev + len(m["entries"])
            self.set_commit(min(m["commit"], match))
            self.send(sender, {"type": "aer", "term": self.term, "success": True, "match": match, "prev": prev, "hint": 0})
        elif kind == "aer":
            if term != self.term or self.role != "leader":
                return
            if m["success"]:
                progressed = m["match"] > self.match_index[sender]
                if progressed:
                    self.match_index[sender] = m["match"]
                    self.advance_commit()
                self.next_index[sender] = max(self.next_index[sender], m["match"] + 1)
                if progressed and self.next_index[sender] <= self.last_index():
                    self.replicate(sender)
            elif m["prev"] == self.next_index[sender] - 1:
                # A refusal of our latest probe (older refusals, duplicated or late, are ignored).
                # It may go below matchIndex: a follower whose disk lost entries to corruption.
                self.next_index[sender] = max(1, min(m["prev"], m["hint"]))
                self.match_index[sender] = min(self.match_index[sender], self.next_index[sender] - 1)
                self.replicate(sender)

    def on_propose(self, command):
        if self.role != "leader":
            reply = {"type": "reply", "accepted": False}
            if self.leader:
                reply["leader_hint"] = self.leader
            self.emit(reply)
            return
        self.append([[self.term, command]], self.last_index())
        self.sync()
        self.emit({"type": "reply", "accepted": True, "index": self.last_index(), "term": self.term})
        for peer in self.peers:
            if self.next_index[peer] == self.last_index():
                self.replicate(peer)


def main():
    node = None
    stdin, stdout = sys.stdin, sys.stdout
    for line in stdin:
        event = json.loads(line)
        out = []
        kind = event["type"]
        if kind == "init":
            node = Node(event, out)
        elif kind == "crash":
            stdout.write('{"type":"done"}\n')
            stdout.flush()
            return
        else:
            node.out = out
            node.now = event["now"]
            if kind == "message":
                node.on_message(event["from"], event["body"])
            elif kind == "timer":
                node.on_timer(event["id"])
            elif kind == "propose":
                node.on_propose(event["command"])
            elif kind == "read":
                out.append({"type": "reply", "accepted": False})
        out.append(node.view())
        out.append({"type": "done"})
        stdout.write("\n".join(json.dumps(e, separators=(",", ":")) for e in out) + "\n")
        stdout.flush()


if __name__ == "__main__":
    main()

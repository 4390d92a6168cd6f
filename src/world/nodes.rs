//! Node failures of `Core`: a node goes down (its pods are lost), is marked not ready
//! after the grace period, has its pods evicted, and comes back.

use super::Ev;
use super::core::Core;
use super::pod::Phase;

impl Core<'_> {
    pub(super) fn on_node_fail(&mut self, n: u32) {
        let node = &mut self.nodes[n as usize];
        node.up = false;
        node.epoch += 1;
        let epoch = node.epoch;
        self.log("node_down", None, || format!("node {n} failed"));
        for i in 0..self.pods.len() {
            let pod = &self.pods[i];
            if pod.node != n || pod.phase == Phase::Gone {
                continue;
            }
            self.drop_requests(i as u32);
            let pod = &mut self.pods[i];
            pod.lost = true;
            pod.accepting = false;
            pod.app_up = false;
        }
        let grace = self.now + self.sc.cluster.node_grace;
        self.q.push(grace, Ev::NodeGrace { node: n, epoch });
        let evict = self.now + self.sc.cluster.pod_eviction.max(self.sc.cluster.node_grace);
        self.q.push(evict, Ev::NodeEvict { node: n, epoch });
        let back = self.exp_draw_node(n as usize, self.sc.cluster.node_mttr);
        self.q.push(back, Ev::NodeRecover { node: n });
    }

    pub(super) fn on_node_grace(&mut self, n: u32, epoch: u32) {
        if self.nodes[n as usize].epoch != epoch || self.nodes[n as usize].up {
            return;
        }
        for i in 0..self.pods.len() as u32 {
            let pod = &self.pods[i as usize];
            if pod.node == n && pod.phase != Phase::Gone && pod.lost {
                self.set_ready(i, false);
            }
        }
    }

    pub(super) fn on_node_evict(&mut self, n: u32, epoch: u32) {
        if self.nodes[n as usize].epoch != epoch || self.nodes[n as usize].up {
            return;
        }
        for i in 0..self.pods.len() as u32 {
            let pod = &self.pods[i as usize];
            if pod.node == n && pod.phase != Phase::Gone {
                self.log("evicted", Some(i), String::new);
                self.exit(i);
            }
        }
        self.reconcile(0);
        self.reconcile(1);
    }

    pub(super) fn on_node_recover(&mut self, n: u32) {
        self.nodes[n as usize].up = true;
        self.log("node_up", None, || format!("node {n} recovered"));
        for i in 0..self.pods.len() as u32 {
            let pod = &mut self.pods[i as usize];
            if pod.node == n && pod.phase != Phase::Gone && pod.lost {
                pod.lost = false;
                pod.inc += 1;
                if pod.terminating {
                    self.exit(i);
                } else {
                    self.start_container(i);
                }
            }
        }
        self.schedule_pending();
        let next = self.exp_draw_node(n as usize, self.sc.cluster.node_mtbf);
        self.q.push(next, Ev::NodeFail { node: n });
    }
}

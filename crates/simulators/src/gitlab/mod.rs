//! PLACEHOLDER — being written (helper). The GitLab simulator.

//! PLACEHOLDER — being written (helper). The GitHub simulator.

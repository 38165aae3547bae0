//! Reading a SECURITY.md into a [`super::Policy`]. OWNED BY THE POLICY WORK (helper A).

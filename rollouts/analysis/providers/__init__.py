"""Measurement providers, one module each, behind one small interface."""

"""End-to-end test and development environment: tesla_sim and Home Assistant as processes."""

"""Transport factors shared by bike-sharing and low-emission development: model and views."""

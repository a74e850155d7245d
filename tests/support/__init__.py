"""Test helpers shared by every test folder: real servers, real clients, generated images."""

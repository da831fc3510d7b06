"""Data sharing with other departments (部门数据共享): confirmed deaths, each department its own fields."""
